import { type DynamicModule, Global, Inject, type MiddlewareConsumer, Module, type NestModule, RequestMethod } from '@nestjs/common';
import type { Logger } from 'pino';
import { pinoHttp } from 'pino-http';
import { WEBHOOK_ROUTE } from '../webhook/webhook.constants.js';
import { httpLoggerOptions } from './log-options.js';
import { PinoLogger, ROOT_LOGGER } from './pino-logger.js';
import { RequestIdMiddleware } from './request-id.middleware.js';

const EVERY_ROUTE = { path: '{*path}', method: RequestMethod.ALL };

/**
 * Logging for the whole app: the root pino logger (`ROOT_LOGGER`, `PinoLogger`), a request id on every
 * request, and pino-http's line per REST request. `POST /webhook` is left out of pino-http: its one line
 * per delivery, with the event key and outcome, comes from `WebhookDeliveryLogMiddleware`, without
 * pino-http's per-request child logger serialising the whole request on the hot path.
 */
@Global()
@Module({})
export class LoggingModule implements NestModule {
  constructor(@Inject(ROOT_LOGGER) private readonly root: Logger) {}

  static forRoot(root: Logger): DynamicModule {
    return {
      module: LoggingModule,
      providers: [{ provide: ROOT_LOGGER, useValue: root }, PinoLogger, RequestIdMiddleware],
      exports: [ROOT_LOGGER, PinoLogger],
    };
  }

  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(RequestIdMiddleware).forRoutes(EVERY_ROUTE);
    consumer
      .apply(pinoHttp(httpLoggerOptions(this.root)))
      .exclude({ path: WEBHOOK_ROUTE, method: RequestMethod.POST })
      .forRoutes(EVERY_ROUTE);
  }
}
