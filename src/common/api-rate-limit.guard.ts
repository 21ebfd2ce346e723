import { CanActivate, ExecutionContext, Global, HttpException, HttpStatus, Inject, Injectable, Module } from '@nestjs/common';
import type { Request, Response } from 'express';
import { APP_CONFIG, type AppConfig } from '../config/app.config.js';
import { ApiKeys } from './api-key.guard.js';
import { ErrorBody } from './http-error.filter.js';
import { addressClient, ApiRateLimiter, type RateVerdict } from './api-rate-limiter.js';

/**
 * Takes one request from the budget of the client `request` comes from: its API key when it carries a
 * valid one (named `key:<position in API_KEYS>`, never by its value), else its address. Sets
 * `X-RateLimit-Limit` and `X-RateLimit-Remaining`, and `Retry-After` when refused. The one place that
 * decides whom a request is counted for, shared by `ApiRateLimitGuard` and the console's Bearer check.
 */
export function takeRateLimit(limiter: ApiRateLimiter, keys: ApiKeys, request: Request, response: Response): RateVerdict {
  const key = keys.match(request.headers.authorization);
  const client = typeof key === 'number' ? `key:${key}` : `address:${addressClient(request.ip ?? request.socket?.remoteAddress)}`;
  const verdict = limiter.take(client);
  response.setHeader('X-RateLimit-Limit', limiter.limit);
  response.setHeader('X-RateLimit-Remaining', verdict.remaining);
  if (!verdict.allowed) response.setHeader('Retry-After', verdict.retryAfterSeconds);
  return verdict;
}

/** The message of a `429`. */
export function rateLimitMessage(limiter: ApiRateLimiter, verdict: RateVerdict): string {
  return `Too many requests: at most ${limiter.limit} a minute per API key or address; retry in ${verdict.retryAfterSeconds} s`;
}

/** The OpenAPI description of a `429` from `ApiRateLimitGuard`. */
export const RATE_LIMITED = {
  type: ErrorBody,
  description: 'Over API_RATE_LIMIT requests a minute for this API key (or, without a valid key, this address)',
  headers: {
    'Retry-After': { description: 'Seconds until a request is allowed again', schema: { type: 'integer' } },
    'X-RateLimit-Limit': { description: 'Requests allowed a minute', schema: { type: 'integer' } },
    'X-RateLimit-Remaining': { description: 'Requests left in the budget now', schema: { type: 'integer' } },
  },
};

/**
 * Rate limit of the REST API, before the API key check: `API_RATE_LIMIT` requests a minute per API key
 * when the request carries a valid one (clients sharing an address keep their own budgets), else per
 * address, so that guessing keys is limited too. Over the limit: `429` with `Retry-After`.
 * `POST /webhook` (served ahead of Nest) and `/health` do not use it: Magic Hour and load balancers
 * must always get through.
 */
@Injectable()
export class ApiRateLimitGuard implements CanActivate {
  private readonly keys: ApiKeys;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly limiter: ApiRateLimiter,
  ) {
    this.keys = new ApiKeys(config.apiKeys);
  }

  canActivate(context: ExecutionContext): boolean {
    const http = context.switchToHttp();
    const verdict = takeRateLimit(this.limiter, this.keys, http.getRequest<Request>(), http.getResponse<Response>());
    if (!verdict.allowed) throw new HttpException(rateLimitMessage(this.limiter, verdict), HttpStatus.TOO_MANY_REQUESTS);
    return true;
  }
}

/** The one `ApiRateLimiter` of the process, shared by `ApiRateLimitGuard` and the console's Bearer check. */
@Global()
@Module({ providers: [ApiRateLimiter], exports: [ApiRateLimiter] })
export class ApiRateLimitModule {}
