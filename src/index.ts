/**
 * The package's entry point, for a NestJS app that embeds Magic Hour webhooks: the module and its
 * options, the handler decorator and the event types, the schema (entities, migrations), the HTTP
 * adapter the service runs on, and the signing helper for the app's own tests.
 * @packageDocumentation
 */
export { MagicHourWebhooksModule } from './magic-hour-webhooks.module.js';
export type {
  MagicHourWebhooksAsyncOptions,
  MagicHourWebhooksOptions,
  MagicHourWebhooksSettings,
  MagicHourWebhooksStructure,
} from './magic-hour-webhooks.options.js';
export type { AppConfig as MagicHourWebhooksConfig } from './config/app.config.js';
export type { LogSink } from './logging/pino-logger.js';
export * from './handlers/index.js';
export { EVENT_TYPES, MEDIA, type EventAction, type MagicHourEventType, type Media } from './magic-hour/magic-hour-event.types.js';
export { MAGIC_HOUR_ENTITIES, MAGIC_HOUR_MIGRATIONS, MIGRATIONS_TABLE_NAME } from './database/data-source.options.js';
export { JobEntity } from './database/entities/job.entity.js';
export { WebhookEventEntity } from './database/entities/webhook-event.entity.js';
export { MetricsService } from './metrics/metrics.service.js';
export { ExpressPrototypesAdapter } from './common/express-prototypes.adapter.js';
export { SIGNATURE_HEADER, TIMESTAMP_HEADER } from './magic-hour/webhook-signature.js';
export { signedHeaders } from './simulator/signing.js';
