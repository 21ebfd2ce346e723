import { Global, Module } from '@nestjs/common';
import { ThrottlerModule, type ThrottlerModuleOptions } from '@nestjs/throttler';
import type { Request } from 'express';
import { APP_CONFIG, type AppConfig } from '../config/app.config.js';
import { ApiKeys } from './api-key.guard.js';
import {
  API_RATE_LIMIT_WINDOW_MS,
  API_THROTTLER,
  ApiRateLimitService,
  rateLimitMessage,
  rateLimitTracker,
} from './api-rate-limit.service.js';
import { RedisThrottlerStorage } from './redis-throttler.storage.js';

/** The throttler of the REST API: one budget of `API_RATE_LIMIT` a minute per client, counted in Redis. */
async function apiThrottlerOptions(config: AppConfig): Promise<ThrottlerModuleOptions> {
  const keys = new ApiKeys(config.apiKeys);
  const storage = new RedisThrottlerStorage(config, config.queuePrefix);
  await storage.whenReady();
  return {
    // Refused until the window ends, and no longer: blockDuration 0.
    throttlers: [{ name: API_THROTTLER, ttl: API_RATE_LIMIT_WINDOW_MS, limit: config.apiRateLimit, blockDuration: 0 }],
    getTracker: (request) => rateLimitTracker(keys, request as Request),
    // The tracker alone, not the route: a client's requests to every route share its budget.
    generateKey: (_context, tracker) => tracker,
    errorMessage: (_context, detail) => rateLimitMessage(detail.limit, detail.timeToBlockExpire),
    storage,
  };
}

/**
 * `@nestjs/throttler` set up for the REST API (HTTP role only): its options and the Redis storage, for
 * `ApiThrottlerGuard`, and `ApiRateLimitService` for middleware the guard does not reach.
 */
@Global()
@Module({
  imports: [ThrottlerModule.forRootAsync({ inject: [APP_CONFIG], useFactory: apiThrottlerOptions })],
  providers: [ApiRateLimitService],
  exports: [ApiRateLimitService],
})
export class ApiThrottlerModule {}
