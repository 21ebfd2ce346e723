import { redisConnection, type RedisSettings } from '../common/redis-connection.js';
import { randomBytes } from 'node:crypto';
import type { OnModuleDestroy } from '@nestjs/common';
import { Redis } from 'ioredis';

/**
 * Calls are counted in a window this much longer than a second, so that a call sent a little late
 * (a busy event loop, the network) still falls within the second Magic Hour counts it in.
 */
export const BUDGET_MARGIN_MS = 250;

/** Commands to Redis that take longer than this count as Redis being away: no call is made. */
const BUDGET_REDIS_TIMEOUT_MS = 1000;

/**
 * A sliding log of the calls granted in the last window, in one sorted set shared by every worker:
 * grants when fewer than the limit were granted within the window (by Redis's clock, the one clock
 * every worker shares), else answers how long to wait. A hold (after a 429 with `Retry-After`) stops
 * every grant until it ends.
 * KEYS: the log, the hold. ARGV: the limit, the window in ms, this grant's member.
 * Answers 0 when granted, else the milliseconds to wait.
 */
const GRANT_SCRIPT = `
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local hold = tonumber(redis.call('GET', KEYS[2]) or '0')
if hold > now then return hold - now end
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], window)
  return 0
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return math.max(1, tonumber(oldest[2]) + window - now + 1)
`;

/**
 * Holds every grant until `ARGV[1]` ms from now (by Redis's clock), unless a longer hold is on.
 * KEYS: the hold.
 */
const HOLD_SCRIPT = `
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local until_ms = now + tonumber(ARGV[1])
local hold = tonumber(redis.call('GET', KEYS[1]) or '0')
if until_ms > hold then redis.call('SET', KEYS[1], until_ms, 'PX', ARGV[1]) end
return 0
`;

type BudgetRedis = Redis & {
  grantCall(log: string, hold: string, limit: number, windowMs: number, member: string): Promise<number>;
  holdCalls(hold: string, ms: number): Promise<number>;
};

/**
 * The deployment's budget of calls to Magic Hour's API (`RECONCILE_MAX_PER_SECOND`), shared by every
 * worker through Redis, under `QUEUE_PREFIX`. A call is made only once granted; while Redis cannot
 * grant (down, slow), no call is made, so the budget is never exceeded.
 */
export class ApiCallBudget implements OnModuleDestroy {
  private readonly redis: BudgetRedis;
  private readonly logKey: string;
  private readonly holdKey: string;
  private sequence = 0;

  /**
   * @param redis the shared Redis (`REDIS_URL`, or the Sentinels' master), as every other client reaches it
   * @param prefix the deployment's key prefix (`QUEUE_PREFIX`)
   * @param maxPerSecond calls allowed in any second, across the deployment
   */
  constructor(
    redis: RedisSettings,
    prefix: string,
    private readonly maxPerSecond: number,
  ) {
    this.logKey = `${prefix}:reconcile:calls`;
    this.holdKey = `${prefix}:reconcile:hold`;
    this.redis = new Redis({
      ...redisConnection(redis),
      commandTimeout: BUDGET_REDIS_TIMEOUT_MS,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      lazyConnect: true,
      retryStrategy: (times) => Math.min(times * 200, 2000),
    }) as BudgetRedis;
    this.redis.defineCommand('grantCall', { numberOfKeys: 2, lua: GRANT_SCRIPT });
    this.redis.defineCommand('holdCalls', { numberOfKeys: 1, lua: HOLD_SCRIPT });
    // Errors show as refused grants; the connection keeps retrying on its own.
    this.redis.on('error', () => undefined);
  }

  /** Connects at the first use, so that a process that never calls the API holds no connection. */
  private async connected(): Promise<void> {
    if (this.redis.status === 'wait') await this.redis.connect().catch(() => undefined);
  }

  /**
   * Asks for one call now: 0 when granted, else how many milliseconds to wait before asking again
   * (a second when Redis did not answer).
   */
  async tryAcquire(): Promise<number> {
    const member = `${process.pid}:${randomBytes(4).toString('hex')}:${(this.sequence += 1)}`;
    try {
      await this.connected();
      return await this.redis.grantCall(this.logKey, this.holdKey, this.maxPerSecond, 1000 + BUDGET_MARGIN_MS, member);
    } catch {
      return 1000;
    }
  }

  /**
   * Waits for a grant, at most `maxWaitMs`; resolves `0` once granted, else the wait still ahead
   * (the caller gives up for now). `signal` ends the wait early (the worker is stopping).
   */
  async acquire(maxWaitMs: number, signal?: AbortSignal): Promise<number> {
    const deadline = Date.now() + maxWaitMs;
    for (;;) {
      const waitMs = await this.tryAcquire();
      if (waitMs === 0) return 0;
      if (signal?.aborted || Date.now() + waitMs > deadline) return waitMs;
      await new Promise((resolve) => setTimeout(resolve, waitMs));
    }
  }

  /** Grants nothing for `ms` (Magic Hour asked, with `Retry-After`); best effort. */
  async hold(ms: number): Promise<void> {
    if (ms <= 0) return;
    await this.connected();
    await this.redis.holdCalls(this.holdKey, Math.ceil(ms)).catch(() => undefined);
  }

  /** Closes the connection. */
  onModuleDestroy(): void {
    this.redis.disconnect();
  }
}
