import { CanActivate, ExecutionContext, Global, HttpException, HttpStatus, Inject, Injectable, Module } from '@nestjs/common';
import type { Request, Response } from 'express';
import { APP_CONFIG, type AppConfig } from '../config/app.config.js';
import { ApiKeys } from './api-key.guard.js';
import { ErrorBody } from './http-error.filter.js';
import { addressClient, ApiRateLimiter } from './api-rate-limiter.js';

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
 * address, so that guessing keys is limited too. A key is named by its position in `API_KEYS`, never
 * by its value. Over the limit: `429` with `Retry-After`. `POST /webhook` (served ahead of Nest) and
 * `/health` do not use it: Magic Hour and load balancers must always get through.
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
    const request = http.getRequest<Request>();
    const response = http.getResponse<Response>();
    const key = this.keys.match(request.headers.authorization);
    const client = typeof key === 'number' ? `key:${key}` : `address:${addressClient(request.ip ?? request.socket?.remoteAddress)}`;
    const verdict = this.limiter.take(client);
    response.setHeader('X-RateLimit-Limit', this.limiter.limit);
    response.setHeader('X-RateLimit-Remaining', verdict.remaining);
    if (!verdict.allowed) {
      response.setHeader('Retry-After', verdict.retryAfterSeconds);
      throw new HttpException(
        `Too many requests: at most ${this.limiter.limit} a minute per API key or address; retry in ${verdict.retryAfterSeconds} s`,
        HttpStatus.TOO_MANY_REQUESTS,
      );
    }
    return true;
  }
}

/** The one `ApiRateLimiter` of the process, shared by every controller that uses `ApiRateLimitGuard`. */
@Global()
@Module({ providers: [ApiRateLimiter], exports: [ApiRateLimiter] })
export class ApiRateLimitModule {}
