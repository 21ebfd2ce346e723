import { type DynamicModule, Global, Inject, type MiddlewareConsumer, Module, type NestModule, RequestMethod } from '@nestjs/common';
import type { Logger } from 'pino';
import { pinoHttp } from 'pino-http';
import { httpLoggerOptions } from './log-options.js';
import { PinoLogger, ROOT_LOGGER } from './pino-logger.js';
import { RequestIdMiddleware, RequestLogContextMiddleware } from './request-id.middleware.js';

const EVERY_ROUTE = { path: '{*path}', method: RequestMethod.ALL };

/** A route as Nest's middleware consumer takes it. */
type Route = { path: string; method: RequestMethod };

/** Routes that log their own line per request, left out of pino-http's. */
const OWN_REQUEST_LINE = Symbol('OWN_REQUEST_LINE');

/**
 * Logging for the whole app: the root pino logger (`ROOT_LOGGER`, `PinoLogger`), a request id on every
 * request, the request id bound to every line logged while serving it, and pino-http's line per
 * request. Routes given as `ownRequestLine` (the webhook, whose one line per delivery with its event key
 * and outcome comes from `WebhookDeliveryLogMiddleware`) skip both: pino-http's child logger serialises
 * the whole request on every request, and the binding makes every promise pay for async hooks.
 */
@Global()
@Module({})
export class LoggingModule implements NestModule {
  constructor(
    @Inject(ROOT_LOGGER) private readonly root: Logger,
    @Inject(OWN_REQUEST_LINE) private readonly ownRequestLine: Route[],
  ) {}

  static forRoot(root: Logger, options: { ownRequestLine?: Route[] } = {}): DynamicModule {
    return {
      module: LoggingModule,
      providers: [
        { provide: ROOT_LOGGER, useValue: root },
        { provide: OWN_REQUEST_LINE, useValue: options.ownRequestLine ?? [] },
        PinoLogger,
        RequestIdMiddleware,
        RequestLogContextMiddleware,
      ],
      exports: [ROOT_LOGGER, PinoLogger],
    };
  }

  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(RequestIdMiddleware).forRoutes(EVERY_ROUTE);
    consumer
      .apply(RequestLogContextMiddleware, pinoHttp(httpLoggerOptions(this.root)))
      .exclude(...this.ownRequestLine)
      .forRoutes(EVERY_ROUTE);
  }
}
