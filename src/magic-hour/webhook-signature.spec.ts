import { describe, expect, it } from '@jest/globals';
import { signedHeaders } from '../../test/support/signing.js';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER, verifySignature } from './webhook-signature.js';

const SECRET = 'whsec_test';
const NOW = 1_700_000_000;
const TOLERANCE = 300;
const BODY = '{"type":"video.started","payload":{"id":"abc"}}';

// Known answers computed outside Node, so the signed format `{timestamp}.{raw body}` is pinned on its own:
//   printf '%s' '1700000000.{"type":"video.started","payload":{"id":"abc"}}' | openssl dgst -sha256 -hmac whsec_test -hex
const KNOWN_SIGNATURE = '60536b7dd8581a3a49100f926ea27478df5e43eb621e6ed50ee55f758b7efc64';
//   printf '%s' '1700000000.{"type":"video.started","payload":{"id":"abc","name":"café ☕"}}' | openssl dgst -sha256 -hmac whsec_test -hex
const UTF8_BODY = '{"type":"video.started","payload":{"id":"abc","name":"café ☕"}}';
const UTF8_SIGNATURE = '7d3d0febe7ad511d11b06fa85c82d6eae682a3ca78f8bf2afc9c2b0abef111d5';

/** A delivery of `body` signed with `secret` at `timestamp`, checked at `nowSeconds`; any field overridable. */
function check(overrides: Partial<Parameters<typeof verifySignature>[0]> = {}, signWith = SECRET, body = BODY) {
  const headers = signedHeaders(body, signWith, NOW);
  return verifySignature({
    secrets: [SECRET],
    toleranceSeconds: TOLERANCE,
    signature: headers[SIGNATURE_HEADER],
    timestamp: headers[TIMESTAMP_HEADER],
    body: Buffer.from(body),
    nowSeconds: NOW,
    ...overrides,
  });
}

describe('verifySignature', () => {
  it('accepts the openssl known-answer vector for `{timestamp}.{raw body}`', () => {
    expect(check({ signature: KNOWN_SIGNATURE, timestamp: '1700000000' })).toBeNull();
  });

  it('hashes the raw UTF-8 bytes of the body (openssl vector with non-ASCII text)', () => {
    const result = verifySignature({
      secrets: [SECRET],
      toleranceSeconds: TOLERANCE,
      signature: UTF8_SIGNATURE,
      timestamp: '1700000000',
      body: Buffer.from(UTF8_BODY, 'utf8'),
      nowSeconds: NOW,
    });
    expect(result).toBeNull();
  });

  it('refuses the known-answer signature when the timestamp it was made for changes', () => {
    expect(check({ signature: KNOWN_SIGNATURE, timestamp: '1700000001' })).toBe('signature does not match');
  });

  it('accepts a valid signature made by the test signer', () => {
    expect(check()).toBeNull();
  });

  it('accepts the signature in uppercase hex too', () => {
    expect(check({ signature: KNOWN_SIGNATURE.toUpperCase(), timestamp: '1700000000' })).toBeNull();
  });

  it('refuses a signature made with another secret', () => {
    expect(check({}, 'whsec_other')).toBe('signature does not match');
  });

  it('refuses everything when no secret is configured', () => {
    expect(check({ secrets: [] })).toBe('signature does not match');
  });

  it('accepts a signature made with any of the configured secrets, so one can be rotated', () => {
    expect(check({ secrets: ['whsec_old', SECRET] })).toBeNull();
    expect(check({ secrets: [SECRET, 'whsec_new'] })).toBeNull();
    expect(check({ secrets: ['whsec_old', 'whsec_new'] })).toBe('signature does not match');
  });

  it('refuses a body changed by one byte (JSON re-serialised with a space)', () => {
    const changed = '{"type": "video.started","payload":{"id":"abc"}}';
    expect(check({ signature: KNOWN_SIGNATURE, timestamp: '1700000000', body: Buffer.from(changed) })).toBe('signature does not match');
    expect(check({ body: Buffer.from(`${BODY}\n`) })).toBe('signature does not match');
  });

  it('refuses a missing signature', () => {
    expect(check({ signature: undefined })).toBe('missing signature header');
    expect(check({ signature: '' })).toBe('missing signature header');
  });

  it('refuses a missing timestamp', () => {
    expect(check({ timestamp: undefined })).toBe('missing timestamp header');
    expect(check({ timestamp: '' })).toBe('missing timestamp header');
  });

  it.each(['abc', '1.5', '-5', '1700000000.0', '1e9', ' 1700000000', '1700000000\n', '0x10'])(
    'refuses the non-integer timestamp %j',
    (timestamp) => {
      expect(check({ timestamp })).toBe('timestamp is not a whole number of seconds');
    },
  );

  it.each([
    ['63 hex characters', KNOWN_SIGNATURE.slice(1)],
    ['65 hex characters', `${KNOWN_SIGNATURE}0`],
    ['a non-hex character', `${KNOWN_SIGNATURE.slice(1)}g`],
    ['a "sha256=" prefix', `sha256=${KNOWN_SIGNATURE}`],
    ['base64', Buffer.from(KNOWN_SIGNATURE, 'hex').toString('base64')],
    ['two signatures joined', `${KNOWN_SIGNATURE},${KNOWN_SIGNATURE}`],
  ])('refuses a signature of %s', (_label, signature) => {
    expect(check({ signature, timestamp: '1700000000' })).toBe('signature is not 64 hex characters');
  });

  describe('timestamp tolerance', () => {
    it('accepts a timestamp exactly at the tolerance in the past', () => {
      expect(check({ nowSeconds: NOW + TOLERANCE })).toBeNull();
    });

    it('refuses a timestamp one second beyond the tolerance in the past', () => {
      expect(check({ nowSeconds: NOW + TOLERANCE + 1 })).toBe('timestamp is outside the allowed tolerance');
    });

    it('accepts a timestamp exactly at the tolerance in the future', () => {
      expect(check({ nowSeconds: NOW - TOLERANCE })).toBeNull();
    });

    it('refuses a timestamp one second beyond the tolerance in the future', () => {
      expect(check({ nowSeconds: NOW - TOLERANCE - 1 })).toBe('timestamp is outside the allowed tolerance');
    });

    it('reports a bad signature before a stale timestamp', () => {
      expect(check({ nowSeconds: NOW + 10 * TOLERANCE }, 'whsec_other')).toBe('signature does not match');
    });
  });
});
