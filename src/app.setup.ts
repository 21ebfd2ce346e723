import { type INestApplication, Logger, type Provider } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import helmet from 'helmet';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { DestinationStream } from 'pino';
import { useAdminViews } from './admin/admin-views.js';
import { AppModule } from './app.module.js';
import { answerClientErrorsWithJson, requireHostHeader } from './common/client-error.responder.js';
import { ExpressPrototypesAdapter } from './common/express-prototypes.adapter.js';
import { limitHttpServer } from './common/http-server.limits.js';
import { runsApi, type AppConfig } from './config/app.config.js';
import { prepareDatabase } from './database/database.bootstrap.js';
import { serveDocs } from './docs/openapi.js';
import { createRootLogger } from './logging/log-options.js';
import { PinoNestLogger } from './logging/pino-logger.js';

/** What `createApp` takes besides the configuration. */
export interface CreateAppOptions {
  /** Handler providers beyond those listed in `HandlersModule`. */
  handlers?: Provider[];
  /** Where log lines go instead of stdout (the tests read them). */
  logDestination?: DestinationStream;
}

/**
 * Builds the application for a configuration: sets up pino as the logger, prepares the database
 * (creates it if missing, runs migrations), then wires security headers, the docs (API role) and
 * validation. Used by `main.ts` and by the tests, so they run what production runs; `main.ts` adds the
 * graceful stop on SIGTERM (`GracefulShutdown`).
 */
export async function createApp(config: AppConfig, options: CreateAppOptions = {}): Promise<INestApplication> {
  const root = createRootLogger(config, options.logDestination);
  // From here on every line, Nest's own start-up lines included, is written by pino.
  Logger.overrideLogger(new PinoNestLogger(root));
  const logger = new Logger('Bootstrap');
  if (!config.production) {
    if (config.webhookSecrets.length === 0) {
      logger.warn('MAGIC_HOUR_WEBHOOK_SECRET is not set: webhook signatures are NOT checked. Never run like this in production.');
    }
    if (config.apiKeys.length === 0) {
      logger.warn('API_KEYS is not set: the jobs API is open to anyone. Never run like this in production.');
    }
  }
  await prepareDatabase(config);

  // No global body parsers: each route that takes a body parses it (the webhook as raw bytes, the
  // console's forms as urlencoded), so nothing else reads a body it was not meant to.
  const app = await NestFactory.create<NestExpressApplication>(
    AppModule.forRoot(config, root, options.handlers),
    new ExpressPrototypesAdapter(),
    { bodyParser: false, bufferLogs: false },
  );
  // Whose X-Forwarded-* to believe (TRUST_PROXY, none by default): the rate limit's client address
  // and the console cookie's Secure flag depend on it.
  app.set('trust proxy', config.trustProxy);
  app.disable('x-powered-by');
  app.use(requireHostHeader);
  app.set('etag', false);
  // Security headers on every Nest answer: helmet's defaults, whose strict CSP the Swagger UI at /docs
  // works under; the console sends its own, stricter one, and Bull Board the one its page needs. Not
  // `upgrade-insecure-requests`: behind plain HTTP (a private network, no TLS terminator) it would make
  // browsers fetch /docs's scripts over https, which is not there.
  app.use(helmet({ contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } } }));
  if (runsApi(config)) {
    serveDocs(app);
    useAdminViews(app);
  }
  answerClientErrorsWithJson(app.getHttpServer());
  limitHttpServer(app.getHttpServer(), config);
  return app;
}

/**
 * Logs why the service could not start. Only the message: a configuration error names the variable
 * and never its value, and credentials in any URL the message quotes are masked.
 */
export function logStartupFailure(error: unknown): void {
  const message = error instanceof Error ? error.message : String(error);
  new Logger('Bootstrap').error(message.replace(/\/\/[^/@\s]*@/g, '//***@'));
}
