import { createHmac, timingSafeEqual } from 'node:crypto';

/** Header carrying the lowercase hex HMAC-SHA256 of `{timestamp}.{raw body}`. */
export const SIGNATURE_HEADER = 'magic-hour-event-signature';
/** Header carrying the Unix time, in seconds, at which Magic Hour signed the event. */
export const TIMESTAMP_HEADER = 'magic-hour-event-timestamp';

/** Why a signature was refused; each becomes a 401 with this text. */
export type SignatureFailure =
  | 'missing signature header'
  | 'missing timestamp header'
  | 'timestamp is not a whole number of seconds'
  | 'signature is not 64 hex characters'
  | 'signature does not match'
  | 'timestamp is outside the allowed tolerance';

const HEX_SHA256 = /^[0-9a-fA-F]{64}$/;
const UNIX_SECONDS = /^\d{1,12}$/;

/**
 * Checks the shape of a delivery's signature and timestamp headers, which needs no body: both present,
 * the timestamp digits, the signature 64 hex characters. Returns them when they could be right, else
 * why not (the same reasons `verifySignature` gives).
 */
export function checkSignatureHeaders(
  signature: string | undefined,
  timestamp: string | undefined,
): SignatureFailure | { signature: string; timestamp: string } {
  if (!signature) return 'missing signature header';
  if (!timestamp) return 'missing timestamp header';
  if (!UNIX_SECONDS.test(timestamp)) return 'timestamp is not a whole number of seconds';
  if (!HEX_SHA256.test(signature)) return 'signature is not 64 hex characters';
  return { signature, timestamp };
}

/**
 * Checks a delivery's signature against every configured secret (any one may match, so a secret can be
 * rotated) in constant time, then its timestamp against the tolerance in both directions. Returns
 * `null` when the delivery is authentic and fresh, else why not.
 */
export function verifySignature(options: {
  secrets: readonly string[];
  toleranceSeconds: number;
  signature: string | undefined;
  timestamp: string | undefined;
  body: Buffer;
  nowSeconds: number;
}): SignatureFailure | null {
  const { secrets, body } = options;
  const headers = checkSignatureHeaders(options.signature, options.timestamp);
  if (typeof headers === 'string') return headers;
  const { signature, timestamp } = headers;

  const received = Buffer.from(signature, 'hex');
  let matched = false;
  for (const secret of secrets) {
    const expected = createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest();
    // Every secret is tried, so the time taken does not tell which one matched.
    matched = timingSafeEqual(expected, received) || matched;
  }
  if (!matched) return 'signature does not match';
  if (Math.abs(options.nowSeconds - Number(timestamp)) > options.toleranceSeconds) {
    return 'timestamp is outside the allowed tolerance';
  }
  return null;
}
