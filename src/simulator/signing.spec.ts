import { describe, expect, it } from '@jest/globals';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER, verifySignature } from '../magic-hour/webhook-signature.js';
import { signature, signedHeaders } from './signing.js';

// Computed outside Node:
//   printf '%s' '1700000000.{"type":"video.started","payload":{"id":"abc"}}' | openssl dgst -sha256 -hmac whsec_test -hex
const BODY = '{"type":"video.started","payload":{"id":"abc"}}';
const KNOWN_SIGNATURE = '60536b7dd8581a3a49100f926ea27478df5e43eb621e6ed50ee55f758b7efc64';
//   printf '%s' '1700000000.{"type":"video.started","payload":{"id":"abc","name":"café ☕"}}' | openssl dgst -sha256 -hmac whsec_test -hex
const UTF8_BODY = '{"type":"video.started","payload":{"id":"abc","name":"café ☕"}}';
const UTF8_SIGNATURE = '7d3d0febe7ad511d11b06fa85c82d6eae682a3ca78f8bf2afc9c2b0abef111d5';

/** The service's own verifier, as the webhook handler calls it. */
const verify = (headers: Record<string, string>, body: string | Buffer, secrets = ['whsec_test'], nowSeconds = 1_700_000_000) =>
  verifySignature({
    secrets,
    toleranceSeconds: 300,
    signature: headers[SIGNATURE_HEADER],
    timestamp: headers[TIMESTAMP_HEADER],
    body: Buffer.isBuffer(body) ? body : Buffer.from(body),
    nowSeconds,
  });

describe('signedHeaders', () => {
  it('matches the openssl known answer for `{timestamp}.{raw body}`', () => {
    expect(signedHeaders(BODY, 'whsec_test', 1_700_000_000)).toEqual({
      'content-type': 'application/json',
      'magic-hour-event-timestamp': '1700000000',
      'magic-hour-event-signature': KNOWN_SIGNATURE,
    });
  });

  it('signs the UTF-8 bytes of a string and the bytes of a Buffer alike (openssl vector)', () => {
    expect(signature(UTF8_BODY, 'whsec_test', 1_700_000_000)).toBe(UTF8_SIGNATURE);
    expect(signature(Buffer.from(UTF8_BODY), 'whsec_test', 1_700_000_000)).toBe(UTF8_SIGNATURE);
  });

  it("is accepted by the service's verifier, which was written apart from it", () => {
    expect(verify(signedHeaders(UTF8_BODY, 'whsec_test', 1_700_000_000), UTF8_BODY)).toBeNull();
    expect(verify(signedHeaders(BODY, 'whsec_other', 1_700_000_000), BODY, ['whsec_test', 'whsec_other'])).toBeNull();
  });

  it('is refused by the verifier for another secret, another body or a stale timestamp', () => {
    expect(verify(signedHeaders(BODY, 'whsec_wrong', 1_700_000_000), BODY)).toBe('signature does not match');
    expect(verify(signedHeaders(BODY, 'whsec_test', 1_700_000_000), `${BODY}\n`)).toBe('signature does not match');
    expect(verify(signedHeaders(BODY, 'whsec_test', 1_700_000_000 - 301), BODY)).toBe('timestamp is outside the allowed tolerance');
  });

  it('signs at the current Unix second by default', () => {
    const before = Math.floor(Date.now() / 1000);
    const timestamp = Number(signedHeaders(BODY, 'whsec_test')['magic-hour-event-timestamp']);
    expect(timestamp).toBeGreaterThanOrEqual(before);
    expect(timestamp).toBeLessThanOrEqual(Math.floor(Date.now() / 1000));
  });
});
