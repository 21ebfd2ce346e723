import { createHmac } from 'node:crypto';

/**
 * Signs a body as Magic Hour does: lowercase hex HMAC-SHA256 over `{timestamp}.{body}`. Written apart
 * from the service's verifier on purpose, so that a mistake in one is caught by the other.
 */
export function signedHeaders(
  body: string | Buffer,
  secret: string,
  timestamp: number = Math.floor(Date.now() / 1000),
): Record<string, string> {
  const signature = createHmac('sha256', secret)
    .update(Buffer.concat([Buffer.from(`${timestamp}.`), Buffer.isBuffer(body) ? body : Buffer.from(body)]))
    .digest('hex');
  return {
    'content-type': 'application/json',
    'magic-hour-event-timestamp': String(timestamp),
    'magic-hour-event-signature': signature,
  };
}
