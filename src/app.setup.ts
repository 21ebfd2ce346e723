import { type INestApplication, Logger, type Provider, ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { AppModule } from './app.module.js';
import { runsApi, type AppConfig } from './config/app.config.js';
import { prepareDatabase } from './database/database.bootstrap.js';
import type { Server } from 'node:http';
import { WebhookHttpHandler } from './webhook/webhook-http.handler.js';

/**
 * Builds the application for a configuration: prepares the database (creates it if missing, runs
 * migrations), then wires the raw webhook body and validation. Used by `main.ts` and by the tests, so
 * they run what production runs; `main.ts` adds the graceful stop on SIGTERM (`GracefulShutdown`).
 */
export async function createApp(config: AppConfig, options: { handlers?: Provider[] } = {}): Promise<INestApplication> {
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

  // No body parsers: no route but the webhook takes a body, and that one must stay raw bytes.
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config, options.handlers), {
    bodyParser: false,
    bufferLogs: false,
  });
  app.set('trust proxy', 'loopback');
  app.disable('x-powered-by');
  app.set('etag', false);
  if (runsApi(config)) serveWebhookFirst(app.getHttpServer() as Server, app.get(WebhookHttpHandler));
  app.useGlobalPipes(
    new ValidationPipe({ transform: true, whitelist: true, forbidNonWhitelisted: true, stopAtFirstError: false }),
  );
  return app;
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
