import { type DynamicModule, Inject, type MiddlewareConsumer, Module, type NestModule, RequestMethod } from '@nestjs/common';
import type { Logger } from 'pino';
import { pinoHttp } from 'pino-http';
import { httpLoggerOptions } from './log-options.js';
import { ROOT_LOGGER } from './pino-logger.js';
import { RequestIdMiddleware } from './request-id.middleware.js';

const EVERY_ROUTE = { path: '{*path}', method: RequestMethod.ALL };

/** A route as Nest's middleware consumer takes it. */
type Route = { path: string; method: RequestMethod };

/** Routes that log their own line per request, left out of pino-http's. */
const OWN_REQUEST_LINE = Symbol('OWN_REQUEST_LINE');

/**
 * The standalone service's request logging: a request id on every request, and pino-http's line per
 * request, which carries the id (`LogSinkModule` provides the loggers the services inject). Routes given as `ownRequestLine`
 * (the webhook, whose one line per delivery with its event key and outcome comes from
 * `WebhookDeliveryLogMiddleware`) skip pino-http, whose child logger serialises the whole request on
 * every request. Request ids are not bound to other lines through AsyncLocalStorage: in an API process
 * that would make every promise pay for async hooks; an error's line names its request id itself.
 */
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
        RequestIdMiddleware,
      ],
    };
  }

  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(RequestIdMiddleware).forRoutes(EVERY_ROUTE);
    consumer
      .apply(pinoHttp(httpLoggerOptions(this.root)))
      .exclude(...this.ownRequestLine)
      .forRoutes(EVERY_ROUTE);
  }
}
