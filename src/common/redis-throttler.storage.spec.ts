import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort, REDIS_URL, uniqueName } from '../../test/support/app.js';
import { removeKeysUnder } from '../../test/support/redis-keys.js';
import { TcpProxy } from '../../test/support/tcp-proxy.js';
import { RATE_LIMIT_REDIS_TIMEOUT_MS, RateLimitStoreUnavailableError, RedisThrottlerStorage } from './redis-throttler.storage.js';

const REDIS_PORT = Number(new URL(REDIS_URL).port);

/** How long `increment` took, and what it rejected with. */
async function timedRefusal(sut: RedisThrottlerStorage): Promise<{ ms: number; error: unknown }> {
  const started = Date.now();
  const error = await sut.increment('a', 60_000, 10, 0, 'default').then(
    () => new Error('counted'),
    (rejection: unknown) => rejection,
  );
  return { ms: Date.now() - started, error };
}

describe(RedisThrottlerStorage.name, () => {
  const prefix = uniqueName('mhq_rl');
  const storages: RedisThrottlerStorage[] = [];
  const storage = async (url = REDIS_URL) => {
    const created = new RedisThrottlerStorage(
      { redisUrl: url, redisCa: null, redisSentinels: [], redisSentinelName: null, redisSentinelPassword: null },
      prefix,
    );
    storages.push(created);
    await created.whenReady();
    return created;
  };
  const redis = new Redis(REDIS_URL, { lazyConnect: true });

  beforeAll(() => redis.connect());
  afterAll(async () => {
    for (const created of storages) created.onApplicationShutdown();
    await removeKeysUnder(REDIS_URL, [prefix]);
    redis.disconnect();
  });

  it('counts hits in a window that starts with the first, and refuses past the limit until it ends', async () => {
    const sut = await storage();
    const hit = () => sut.increment('window', 1000, 2, 0, 'default');
    expect(await hit()).toEqual({ totalHits: 1, timeToExpire: 1, isBlocked: false, timeToBlockExpire: 0 });
    expect(await hit()).toEqual({ totalHits: 2, timeToExpire: 1, isBlocked: false, timeToBlockExpire: 0 });
    expect(await hit()).toEqual({ totalHits: 3, timeToExpire: 1, isBlocked: true, timeToBlockExpire: 1 });
    await sleep(1100);
    expect(await hit()).toEqual({ totalHits: 1, timeToExpire: 1, isBlocked: false, timeToBlockExpire: 0 });
  });

  it('keeps each key and each throttler apart, under <prefix>:rate-limit:, expiring with the window', async () => {
    const sut = await storage();
    await sut.increment('ip:203.0.113.7', 60_000, 5, 0, 'default');
    await sut.increment('ip:203.0.113.7', 60_000, 5, 0, 'default');
    expect((await sut.increment('ip:203.0.113.8', 60_000, 5, 0, 'default')).totalHits).toBe(1);
    expect((await sut.increment('ip:203.0.113.7', 60_000, 5, 0, 'other')).totalHits).toBe(1);
    const key = `${prefix}:rate-limit:default:ip:203.0.113.7`;
    expect(await redis.get(key)).toBe('2');
    expect(await redis.pttl(key)).toBeGreaterThan(55_000);
  });

  it('counts atomically: concurrent hits through two connections each get a different count', async () => {
    const [a, b] = [await storage(), await storage()];
    const records = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).increment('shared', 60_000, 30, 0, 'default')));
    expect(records.map((record) => record.totalHits).sort((x, y) => x - y)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    expect(records.filter((record) => record.isBlocked)).toHaveLength(10);
  });

  it('refuses for the block duration, when one is given, then starts a new window', async () => {
    const sut = await storage();
    const hit = () => sut.increment('blocked', 60_000, 1, 300, 'default');
    expect((await hit()).isBlocked).toBe(false);
    expect(await hit()).toMatchObject({ isBlocked: true, timeToBlockExpire: 1 });
    expect((await hit()).isBlocked).toBe(true);
    await sleep(350);
    expect(await hit()).toMatchObject({ totalHits: 1, isBlocked: false });
  });

  it('rejects at once with RateLimitStoreUnavailableError when Redis cannot be reached', async () => {
    const sut = await storage(`redis://127.0.0.1:${await freePort()}`);
    const { ms, error } = await timedRefusal(sut);
    expect(error).toBeInstanceOf(RateLimitStoreUnavailableError);
    expect(ms).toBeLessThan(200);
  });

  it('rejects within its timeout when Redis stops answering', async () => {
    const proxy = new TcpProxy(await freePort(), REDIS_PORT);
    await proxy.start();
    try {
      const sut = await storage(`redis://127.0.0.1:${proxy.port}`);
      expect((await sut.increment('hung', 60_000, 10, 0, 'default')).totalHits).toBe(1);
      proxy.freeze();
      const { ms, error } = await timedRefusal(sut);
      expect(error).toBeInstanceOf(RateLimitStoreUnavailableError);
      expect(ms).toBeGreaterThanOrEqual(RATE_LIMIT_REDIS_TIMEOUT_MS - 50);
      expect(ms).toBeLessThan(RATE_LIMIT_REDIS_TIMEOUT_MS + 1000);
    } finally {
      await proxy.cut();
    }
  });
});
