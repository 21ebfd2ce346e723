import { describe, expect, it } from '@jest/globals';
import type { Request } from 'express';
import { createHash } from 'node:crypto';
import { ApiKeys } from './api-key.guard.js';
import { rateLimitTracker } from './api-rate-limit.service.js';

const KEY = 'mh_live_4f1c2e9a7b3d';
const keys = new ApiKeys([KEY, 'mh_live_other']);
const requestFrom = (ip: string | undefined, authorization?: string) =>
  ({ ip, headers: authorization === undefined ? {} : { authorization } }) as unknown as Request;

describe(rateLimitTracker.name, () => {
  it('counts a request with a valid key for the SHA-256 of that key, whatever its address', () => {
    const tracker = `key:${createHash('sha256').update(KEY).digest('hex')}`;
    expect(rateLimitTracker(keys, requestFrom('203.0.113.7', `Bearer ${KEY}`))).toBe(tracker);
    expect(rateLimitTracker(keys, requestFrom('2001:db8::1', `bearer ${KEY}`))).toBe(tracker);
    expect(tracker).not.toContain(KEY);
  });

  it.each([
    ['203.0.113.7', 'ip:203.0.113.7'],
    ['203.0.113.8', 'ip:203.0.113.8'],
    ['::ffff:203.0.113.7', 'ip:203.0.113.7'],
    ['2001:db8:1:2:3:4:5:6', 'ip:2001:db8:1:2::/64'],
    ['2001:db8:1:2::9', 'ip:2001:db8:1:2::/64'],
    ['2001:0db8:0001:0002:ffff::1', 'ip:2001:db8:1:2::/64'],
    ['2001:db8:1:3::1', 'ip:2001:db8:1:3::/64'],
    [undefined, 'ip:unknown'],
  ])('counts a request from %s without a valid key as %s', (ip, tracker) => {
    expect(rateLimitTracker(keys, requestFrom(ip))).toBe(tracker);
    expect(rateLimitTracker(keys, requestFrom(ip, 'Bearer not-a-key'))).toBe(tracker);
    expect(rateLimitTracker(keys, requestFrom(ip, `Basic ${KEY}`))).toBe(tracker);
  });

  it('counts by address when no key is configured', () => {
    expect(rateLimitTracker(new ApiKeys([]), requestFrom('203.0.113.7', `Bearer ${KEY}`))).toBe('ip:203.0.113.7');
  });
});
