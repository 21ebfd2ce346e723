import { createHmac } from 'node:crypto';

/**
 * The sender's side of Magic Hour's signature, used by `mh`, the tests and the benchmark alike.
 *
 * Deliberately written apart from the service's verifier (`src/magic-hour/webhook-signature.ts`), with its
 * own header names and no shared helper, so that a mistake in one is caught by the other rather than
 * copied into both.
 */

/** Unix seconds now: what Magic Hour puts in `magic-hour-event-timestamp`. */
export const unixSeconds = (now: number = Date.now()): number => Math.floor(now / 1000);

/** Lowercase hex HMAC-SHA256, keyed with `secret`, over the bytes `{timestamp}.{body}`. */
export function signature(body: string | Buffer, secret: string, timestamp: number): string {
  return createHmac('sha256', secret)
    .update(Buffer.concat([Buffer.from(`${timestamp}.`), Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8')]))
    .digest('hex');
}

/**
 * The headers Magic Hour sends with `body`: its content type, the Unix timestamp and the signature over
 * `{timestamp}.{body}`. Send the body byte for byte as signed.
 */
export function signedHeaders(body: string | Buffer, secret: string, timestamp: number = unixSeconds()): Record<string, string> {
  return {
    'content-type': 'application/json',
    'magic-hour-event-timestamp': String(timestamp),
    'magic-hour-event-signature': signature(body, secret, timestamp),
  };
}
