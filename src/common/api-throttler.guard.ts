import { ExecutionContext, Injectable, ServiceUnavailableException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import {
  InjectThrottlerOptions,
  InjectThrottlerStorage,
  ThrottlerGuard,
  type ThrottlerLimitDetail,
  type ThrottlerModuleOptions,
  type ThrottlerRequest,
  type ThrottlerStorage,
} from '@nestjs/throttler';
import type { Request } from 'express';
import { ApiRateLimitService, RATE_LIMIT_UNAVAILABLE_MESSAGE, RATE_LIMIT_UNAVAILABLE_RETRY_SECONDS } from './api-rate-limit.service.js';
import { ErrorBody } from './http-error.filter.js';
import { RateLimitStoreUnavailableError } from './redis-throttler.storage.js';

/** The OpenAPI description of a `429` from `ApiThrottlerGuard`. */
export const RATE_LIMITED = {
  type: ErrorBody,
  description: 'Over API_RATE_LIMIT requests a minute for this API key (or, without a valid key, this address)',
  headers: {
    'Retry-After': { description: 'Seconds until a request is allowed again', schema: { type: 'integer' } },
    'X-RateLimit-Limit': { description: 'Requests allowed a minute', schema: { type: 'integer' } },
    'X-RateLimit-Remaining': { description: 'Requests left in the budget now', schema: { type: 'integer' } },
  },
};

/** The OpenAPI description of the `503` `ApiThrottlerGuard` gives while Redis cannot count. */
export const RATE_LIMIT_UNAVAILABLE = {
  type: ErrorBody,
  description: 'Redis cannot count requests for the rate limit, and this request has no valid API key',
  headers: { 'Retry-After': { description: 'Seconds to wait before trying again', schema: { type: 'integer' } } },
};

/**
 * `@nestjs/throttler`'s guard on the REST API (and the console's login), before the API key check:
 * `API_RATE_LIMIT` requests a minute per API key when the request carries a valid one, else per
 * address (see `rateLimitTracker`), so that guessing keys is limited too. Counted in Redis, so every API
 * process takes from the same budgets. Over the limit: `429` with `Retry-After`, `X-RateLimit-Limit`
 * and `X-RateLimit-Remaining`; allowed answers carry those two and `X-RateLimit-Reset`.
 *
 * While Redis cannot count (down, or slower than `RATE_LIMIT_REDIS_TIMEOUT_MS`): a request with a valid
 * key goes on uncounted (fail open), any other gets `503` with `Retry-After` (fail closed: `503`, not
 * `429`, because the client is not over any limit; the service cannot tell). With no key configured at
 * all the API is open, so every request goes on.
 *
 * `POST /webhook`, `/health` and `/metrics` do not use it: Magic Hour, load balancers and scrapers must
 * always get through.
 */
@Injectable()
export class ApiThrottlerGuard extends ThrottlerGuard {
  constructor(
    @InjectThrottlerOptions() options: ThrottlerModuleOptions,
    @InjectThrottlerStorage() storage: ThrottlerStorage,
    reflector: Reflector,
    private readonly rateLimit: ApiRateLimitService,
  ) {
    super(options, storage, reflector);
  }

  protected override async handleRequest(request: ThrottlerRequest): Promise<boolean> {
    try {
      return await super.handleRequest(request);
    } catch (error) {
      if (!(error instanceof RateLimitStoreUnavailableError)) throw error;
      const { req, res } = this.getRequestResponse(request.context);
      if (this.rateLimit.passesUncounted(req as Request)) return true;
      this.setResponseHeader(res, 'Retry-After', RATE_LIMIT_UNAVAILABLE_RETRY_SECONDS);
      throw new ServiceUnavailableException(RATE_LIMIT_UNAVAILABLE_MESSAGE);
    }
  }

  // The throttler sets only Retry-After on a refusal; the API's 429 has always said the limit too.
  protected override async throwThrottlingException(context: ExecutionContext, detail: ThrottlerLimitDetail): Promise<void> {
    const { res } = this.getRequestResponse(context);
    this.setResponseHeader(res, `${this.headerPrefix}-Limit`, detail.limit);
    this.setResponseHeader(res, `${this.headerPrefix}-Remaining`, 0);
    await super.throwThrottlingException(context, detail);
  }
}
