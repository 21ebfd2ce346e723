import { type INestApplication, Logger, ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { AppModule } from './app.module.js';
import { runsApi, type AppConfig } from './config/app.config.js';
import { prepareDatabase } from './database/database.bootstrap.js';
import { rawWebhookBody } from './webhook/raw-body.middleware.js';

/**
 * Builds the application for a configuration: prepares the database (creates it if missing, runs
 * migrations), then wires the raw webhook body, validation and shutdown hooks. Used by `main.ts` and
 * by the tests, so they run what production runs.
 */
export async function createApp(config: AppConfig): Promise<INestApplication> {
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

  // Nest's own body parsers stay off: the webhook body must reach the signature guard as raw bytes.
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config), {
    bodyParser: false,
    bufferLogs: false,
  });
  app.set('trust proxy', 'loopback');
  app.disable('x-powered-by');
  if (runsApi(config)) app.use('/webhook', rawWebhookBody(config.webhookBodyLimitBytes));
  app.useGlobalPipes(
    new ValidationPipe({ transform: true, whitelist: true, forbidNonWhitelisted: true, stopAtFirstError: false }),
  );
  app.enableShutdownHooks();
  return app;
}
