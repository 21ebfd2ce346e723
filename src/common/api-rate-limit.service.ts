import { HttpStatus, Inject, Injectable } from '@nestjs/common';
import { InjectThrottlerStorage, normalizeIp, type ThrottlerStorage } from '@nestjs/throttler';
import type { Request, Response } from 'express';
import { createHash } from 'node:crypto';
import { APP_CONFIG, type AppConfig } from '../config/app.config.js';
import { ApiKeys } from './api-key.guard.js';
import { errorBody, type ErrorBody } from './http-error.filter.js';
import { RateLimitStoreUnavailableError } from './redis-throttler.storage.js';

/** The window `API_RATE_LIMIT` is counted over. */
export const API_RATE_LIMIT_WINDOW_MS = 60_000;
/** The name of the one throttler: every counted request takes from the same budget, whatever its route. */
export const API_THROTTLER = 'default';
/** `Retry-After` of a `503` given because the rate limit cannot count (Redis down). */
export const RATE_LIMIT_UNAVAILABLE_RETRY_SECONDS = 5;
/** The message of that `503`. */
export const RATE_LIMIT_UNAVAILABLE_MESSAGE = `The rate limit cannot count requests right now: only requests with a valid API key are taken; retry in ${RATE_LIMIT_UNAVAILABLE_RETRY_SECONDS} s`;

/** The message of a `429`. */
export function rateLimitMessage(limit: number, retryAfterSeconds: number): string {
  return `Too many requests: at most ${limit} a minute per API key or address; retry in ${retryAfterSeconds} s`;
}

/**
 * Whom a request is counted for: `key:<SHA-256 of the key>` when it carries a valid API key (so the key
 * itself is never stored in Redis, and clients behind one address keep their own budgets), else
 * `ip:<address>`, the whole address for IPv4 and its /64 for IPv6 (one host usually holds a whole
 * /64). The address is `request.ip`, so Express's `trust proxy` decides which proxies are believed.
 */
export function rateLimitTracker(keys: ApiKeys, request: Request): string {
  const authorization = request.headers.authorization;
  if (typeof keys.match(authorization) === 'number') {
    return `key:${createHash('sha256').update(ApiKeys.fromBearer(authorization)!).digest('hex')}`;
  }
  return `ip:${request.ip ? normalizeIp(request.ip, 64) : 'unknown'}`;
}

/**
 * The REST API's rate limit policy, shared by `ApiThrottlerGuard` (routes) and the console's Bearer
 * check (`take`, for middleware that no guard reaches): one budget per client in the Redis storage
 * `ApiThrottlerModule` gives `@nestjs/throttler`.
 */
@Injectable()
export class ApiRateLimitService {
  /** Requests a client may send a minute (`API_RATE_LIMIT`). */
  readonly limit: number;
  private readonly keys: ApiKeys;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    @InjectThrottlerStorage() private readonly storage: ThrottlerStorage,
  ) {
    this.limit = config.apiRateLimit;
    this.keys = new ApiKeys(config.apiKeys);
  }

  /** Whom `request` is counted for (see `rateLimitTracker`). */
  trackerOf(request: Request): string {
    return rateLimitTracker(this.keys, request);
  }

  /**
   * Whether `request` may pass uncounted while Redis cannot count: when it carries a valid API key (its
   * holder is trusted), or when no key is configured (the API is open anyway). Other clients are
   * refused, so that keys cannot be guessed without a limit.
   */
  passesUncounted(request: Request): boolean {
    return !this.keys.configured || typeof this.keys.match(request.headers.authorization) === 'number';
  }

  /**
   * Counts `request` as `ApiThrottlerGuard` counts a route's, from the same budget, and sets the same
   * headers. Resolves to `null` when it may go on, else to the error to answer (`429`, or `503` while
   * Redis cannot count and the request has no valid key).
   */
  async take(request: Request, response: Response): Promise<ErrorBody | null> {
    let record: Awaited<ReturnType<ThrottlerStorage['increment']>>;
    try {
      record = await this.storage.increment(this.trackerOf(request), API_RATE_LIMIT_WINDOW_MS, this.limit, 0, API_THROTTLER);
    } catch (error) {
      if (!(error instanceof RateLimitStoreUnavailableError)) throw error;
      if (this.passesUncounted(request)) return null;
      response.setHeader('Retry-After', RATE_LIMIT_UNAVAILABLE_RETRY_SECONDS);
      return errorBody(HttpStatus.SERVICE_UNAVAILABLE, RATE_LIMIT_UNAVAILABLE_MESSAGE);
    }
    response.setHeader('X-RateLimit-Limit', this.limit);
    response.setHeader('X-RateLimit-Remaining', Math.max(0, this.limit - record.totalHits));
    if (record.isBlocked) {
      response.setHeader('Retry-After', record.timeToBlockExpire);
      return errorBody(HttpStatus.TOO_MANY_REQUESTS, rateLimitMessage(this.limit, record.timeToBlockExpire));
    }
    response.setHeader('X-RateLimit-Reset', record.timeToExpire);
    return null;
  }
}
