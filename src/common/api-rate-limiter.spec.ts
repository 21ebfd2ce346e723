import { afterEach, describe, expect, it } from '@jest/globals';
import { buildConfig } from '../config/app.config.js';
import { validateEnv } from '../config/env.validation.js';
import { addressClient, ApiRateLimiter } from './api-rate-limiter.js';

describe(ApiRateLimiter.name, () => {
  const limiters: ApiRateLimiter[] = [];
  const limiterOf = (limit: number) => {
    const limiter = new ApiRateLimiter(buildConfig(validateEnv({ API_RATE_LIMIT: String(limit) })));
    limiters.push(limiter);
    return limiter;
  };
  afterEach(() => {
    for (const limiter of limiters.splice(0)) limiter.onModuleDestroy();
  });

  it('allows the limit at once, then refuses with the seconds until the next request', () => {
    const sut = limiterOf(3);
    const t0 = 1_000_000;
    expect([sut.take('a', t0), sut.take('a', t0), sut.take('a', t0)]).toEqual([
      { allowed: true, remaining: 2, retryAfterSeconds: 0 },
      { allowed: true, remaining: 1, retryAfterSeconds: 0 },
      { allowed: true, remaining: 0, retryAfterSeconds: 0 },
    ]);
    // 3 a minute: one comes back every 20 s.
    expect(sut.take('a', t0)).toEqual({ allowed: false, remaining: 0, retryAfterSeconds: 20 });
    expect(sut.take('a', t0 + 15_000)).toEqual({ allowed: false, remaining: 0, retryAfterSeconds: 5 });
    expect(sut.take('a', t0 + 20_000).allowed).toBe(true);
    expect(sut.take('a', t0 + 20_000).allowed).toBe(false);
  });

  it('keeps each client apart', () => {
    const sut = limiterOf(1);
    expect(sut.take('a', 0).allowed).toBe(true);
    expect(sut.take('a', 0).allowed).toBe(false);
    expect(sut.take('b', 0).allowed).toBe(true);
  });

  it('never holds more than the limit, however long a client waited', () => {
    const sut = limiterOf(2);
    sut.take('a', 0);
    const after = [sut.take('a', 3_600_000), sut.take('a', 3_600_000), sut.take('a', 3_600_000)];
    expect(after.map((verdict) => verdict.allowed)).toEqual([true, true, false]);
  });
});

describe(addressClient.name, () => {
  it.each([
    ['203.0.113.7', '203.0.113.7'],
    ['::ffff:203.0.113.7', '203.0.113.7'],
    ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2::/64'],
    ['2001:db8:1:2::9', '2001:db8:1:2::/64'],
    ['2001:0db8:0001:0002:ffff::1', '2001:db8:1:2::/64'],
    ['::1', '0:0:0:0::/64'],
    ['fe80::1', 'fe80:0:0:0::/64'],
    [undefined, 'unknown'],
  ])('counts %s as %s', (ip, client) => {
    expect(addressClient(ip)).toBe(client);
  });
});
