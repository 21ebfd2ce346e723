import { type INestApplication, Logger, type Provider, ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import helmet from 'helmet';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Logger as PinoNestLogger, PinoLogger } from 'nestjs-pino';
import type { DestinationStream } from 'pino';
import { useAdminViews } from './admin/admin-views.js';
import { AppModule } from './app.module.js';
import { answerClientErrorsWithJson } from './common/client-error.responder.js';
import { runsApi, type AppConfig } from './config/app.config.js';
import { prepareDatabase } from './database/database.bootstrap.js';
import type { Server } from 'node:http';
import { serveDocs } from './docs/openapi.js';
import { createRootLogger, loggerParams } from './logging/log-options.js';
import { WebhookHttpHandler } from './webhook/webhook-http.handler.js';

/** What `createApp` takes besides the configuration. */
export interface CreateAppOptions {
  /** Handler providers beyond those listed in `HandlersModule`. */
  handlers?: Provider[];
  /**
   * Where log lines go instead of stdout. `nestjs-pino` keeps one root logger per process, made by the
   * first app created in it, so this applies to the first app of a process only.
   */
  logDestination?: DestinationStream;
}

/**
 * Builds the application for a configuration: sets up pino as the logger, prepares the database
 * (creates it if missing, runs migrations), then wires the raw webhook body, the docs (API role) and
 * validation. Used by `server.ts` and by the tests, so they run what production runs; `server.ts` adds the
 * graceful stop on SIGTERM (`GracefulShutdown`).
 */
export async function createApp(config: AppConfig, options: CreateAppOptions = {}): Promise<INestApplication> {
  const logging = loggerParams(createRootLogger(config, options.logDestination));
  // From here on every line, Nest's own start-up lines included, is written by pino.
  Logger.overrideLogger(new PinoNestLogger(new PinoLogger(logging), logging));
  const logger = new Logger('Bootstrap');
  if (!config.production) {
    if (config.webhookSecrets.length === 0) {
      logger.warn('MAGIC_HOUR_WEBHOOK_SECRET is not set: webhook signatures are NOT checked. Never run like this in production.');
    }
    if (config.apiKeys.length === 0) {
      logger.warn('API_KEYS is not set: the jobs API is open to anyone. Never run like this in production.');
    }
  }
  await prepareDatabase(config.databaseUrl);

  // No global body parsers: the webhook must read raw bytes; the console parses its forms itself.
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config, options.handlers, logging), {
    bodyParser: false,
    bufferLogs: false,
  });
  app.useLogger(app.get(PinoNestLogger));
  app.set('trust proxy', 'loopback');
  app.disable('x-powered-by');
  app.set('etag', false);
  // Security headers on every Nest answer: helmet's defaults, whose strict CSP the Swagger UI at /docs
  // works under; the console sends its own, stricter one, and Bull Board the one its page needs. Not
  // `upgrade-insecure-requests`: behind plain HTTP (a private network, no TLS terminator) it would make
  // browsers fetch /docs's scripts over https, which is not there.
  app.use(helmet({ contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } } }));
  const server = app.getHttpServer() as Server;
  if (runsApi(config)) {
    serveWebhookFirst(server, app.get(WebhookHttpHandler));
    serveDocs(app);
    useAdminViews(app);
  }
  answerClientErrorsWithJson(server);
  app.useGlobalPipes(
    new ValidationPipe({ transform: true, whitelist: true, forbidNonWhitelisted: true, stopAtFirstError: false }),
  );
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

/** Puts `POST /webhook` in front of Express on the HTTP server; everything else goes to Nest. */
function serveWebhookFirst(server: Server, webhook: WebhookHttpHandler): void {
  const nest = server.listeners('request') as Array<(...args: unknown[]) => void>;
  server.removeAllListeners('request');
  server.on('request', (request, response) => {
    if (webhook.handles(request)) void webhook.handle(request, response);
    else for (const listener of nest) listener.call(server, request, response);
  });
}
