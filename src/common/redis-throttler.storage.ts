import { Logger, type OnApplicationShutdown } from '@nestjs/common';
import type { ThrottlerStorage } from '@nestjs/throttler';
import { Redis } from 'ioredis';
import { once } from 'node:events';
import { redisConnection, type RedisSettings } from './redis-connection.js';

/** What `ThrottlerStorage.increment` resolves to (the type itself is not exported by `@nestjs/throttler`). */
export type ThrottlerRecord = Awaited<ReturnType<ThrottlerStorage['increment']>>;

/** Longest one count may take before the request is treated as if Redis were down. */
export const RATE_LIMIT_REDIS_TIMEOUT_MS = 500;
const CONNECT_TIMEOUT_MS = 1000;
const MAX_RECONNECT_DELAY_MS = 2000;

/**
 * Thrown by `RedisThrottlerStorage.increment` when Redis cannot count a request (down, unreachable, or
 * slower than `RATE_LIMIT_REDIS_TIMEOUT_MS`), so the guard can apply its policy for an unknown count.
 */
export class RateLimitStoreUnavailableError extends Error {
  override readonly name = 'RateLimitStoreUnavailableError';
}

// One round trip, atomic: count the hit in a fixed window of ttl ms (the window starts with the first
// hit), and, when the count passes the limit, refuse until the window ends or, with a block duration,
// for that long. KEYS: hits, block. ARGV: ttl ms, limit, block ms. Returns hits, ms left in the window,
// ms left refused (0 when allowed).
const INCREMENT_SCRIPT = `
local blocked = redis.call('PTTL', KEYS[2])
if blocked > 0 then
  return {tonumber(ARGV[2]) + 1, blocked, blocked}
end
local hits = redis.call('INCR', KEYS[1])
local window = redis.call('PTTL', KEYS[1])
if window < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  window = tonumber(ARGV[1])
end
if hits <= tonumber(ARGV[2]) then
  return {hits, window, 0}
end
if tonumber(ARGV[3]) > 0 then
  redis.call('SET', KEYS[2], '1', 'PX', ARGV[3])
  redis.call('DEL', KEYS[1])
  return {hits, tonumber(ARGV[3]), tonumber(ARGV[3])}
end
return {hits, window, window}
`;

interface CountingRedis extends Redis {
  throttlerIncrement(hitsKey: string, blockKey: string, ttlMs: number, limit: number, blockMs: number): Promise<[number, number, number]>;
}

/**
 * `@nestjs/throttler`'s storage in Redis, so that every API process counts against the same budgets.
 * Keys live under `<QUEUE_PREFIX>:rate-limit:` and expire with their window.
 *
 * Written here rather than taken from `@nest-lab/throttler-storage-redis` or
 * `@nestjs-redis/throttler-storage`: neither accepts NestJS 12 as a peer. It is one Lua script over
 * ioredis (the client Bull already brings). Each count is bounded: no offline queue (a disconnected
 * client fails at once) and a command timeout (a hung Redis fails after `RATE_LIMIT_REDIS_TIMEOUT_MS`);
 * either way `increment` rejects with `RateLimitStoreUnavailableError` and never hangs a request.
 */
export class RedisThrottlerStorage implements ThrottlerStorage, OnApplicationShutdown {
  private readonly logger = new Logger(RedisThrottlerStorage.name);
  private readonly redis: CountingRedis;
  private readonly keyPrefix: string;
  private down = false;

  /**
   * @param redis the Redis to count in (`REDIS_URL`, or the Sentinels' master)
   * @param prefix the deployment's key prefix (`QUEUE_PREFIX`)
   */
  constructor(redis: RedisSettings, prefix: string) {
    this.keyPrefix = `${prefix}:rate-limit:`;
    this.redis = new Redis({
      ...redisConnection(redis),
      connectTimeout: CONNECT_TIMEOUT_MS,
      commandTimeout: RATE_LIMIT_REDIS_TIMEOUT_MS,
      // At shutdown, a connection Redis does not close within this is dropped.
      disconnectTimeout: RATE_LIMIT_REDIS_TIMEOUT_MS,
      enableOfflineQueue: false,
      autoResendUnfulfilledCommands: false,
      maxRetriesPerRequest: 0,
      retryStrategy: (times) => Math.min(times * 200, MAX_RECONNECT_DELAY_MS),
    }) as CountingRedis;
    this.redis.defineCommand('throttlerIncrement', { numberOfKeys: 2, lua: INCREMENT_SCRIPT });
    this.redis.on('error', (error: Error) => this.markDown(error));
  }

  /** Waits (briefly) for the first connection, so that the first requests are counted, not refused. */
  async whenReady(timeoutMs = CONNECT_TIMEOUT_MS): Promise<void> {
    if (this.redis.status === 'ready') return;
    await once(this.redis, 'ready', { signal: AbortSignal.timeout(timeoutMs) }).catch(() => undefined);
  }

  async increment(key: string, ttl: number, limit: number, blockDuration: number, throttlerName: string): Promise<ThrottlerRecord> {
    const hitsKey = `${this.keyPrefix}${throttlerName}:${key}`;
    let answer: [number, number, number];
    try {
      answer = await this.redis.throttlerIncrement(hitsKey, `${hitsKey}:blocked`, ttl, limit, Math.max(0, blockDuration));
    } catch (error) {
      this.markDown(error as Error);
      throw new RateLimitStoreUnavailableError(`Redis could not count the request: ${(error as Error).message}`);
    }
    if (this.down) {
      this.down = false;
      this.logger.log('Redis counts API requests again');
    }
    const [totalHits, windowMs, blockedMs] = answer;
    return {
      totalHits,
      timeToExpire: Math.ceil(windowMs / 1000),
      isBlocked: blockedMs > 0,
      timeToBlockExpire: Math.ceil(blockedMs / 1000),
    };
  }

  onApplicationShutdown(): void {
    this.redis.disconnect();
  }

  private markDown(error: Error): void {
    if (this.down) return;
    this.down = true;
    this.logger.warn(`Redis cannot count API requests for the rate limit: ${error.message}`);
  }
}
