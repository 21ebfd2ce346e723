import { type DynamicModule, Module } from '@nestjs/common';
import { ApiThrottlerModule } from './common/api-throttler.module.js';
import type { AppConfig } from './config/app.config.js';
import { AppConfigModule } from './config/config.module.js';
import { DatabaseModule } from './database/database.module.js';
import { EventsModule } from './events/events.module.js';
import { HandlersModule } from './handlers/handlers.module.js';
import { JobsApiModule } from './jobs/jobs-api.module.js';
import { LogSinkModule } from './logging/log-sink.module.js';
import {
  resolveModuleConfig,
  structureOf,
  type MagicHourWebhooksAsyncOptions,
  type MagicHourWebhooksOptions,
  type MagicHourWebhooksSettings,
  type MagicHourWebhooksStructure,
} from './magic-hour-webhooks.options.js';
import { MetricsModule } from './metrics/metrics.module.js';
import { ProcessingModule } from './processing/processing.module.js';
import { MagicHourApiModule } from './reconcile/magic-hour-api.module.js';
import { ReconcileApiModule } from './reconcile/reconcile-api.module.js';
import { ReconcileStatusModule } from './reconcile/reconcile-status.module.js';
import { ReconcileModule } from './reconcile/reconcile.module.js';
import { RetentionModule } from './retention/retention.module.js';
import { WEBHOOK_ROUTE } from './queue/queue.constants.js';
import { WebhookModule } from './webhook/webhook.module.js';

/**
 * Magic Hour webhooks inside a NestJS app: `POST /webhook` (signature, intake into Postgres), the Bull
 * worker that applies events to jobs and runs every `@OnMagicHourEvent` method of the app's providers,
 * and the jobs and events REST API. It uses the app's TypeORM data source (Postgres) and a Redis of its
 * own choosing (`redisUrl`), never reads `process.env` and never creates a database.
 *
 * @example
 * ```ts
 * @Module({
 *   imports: [
 *     TypeOrmModule.forRoot({ type: 'postgres', url: process.env.DATABASE_URL, autoLoadEntities: true }),
 *     MagicHourWebhooksModule.forRoot({ webhookSecrets: [process.env.MAGIC_HOUR_WEBHOOK_SECRET!], redisUrl: process.env.REDIS_URL }),
 *   ],
 *   providers: [NotifyOnFinish],
 * })
 * export class AppModule {}
 * ```
 */
@Module({})
export class MagicHourWebhooksModule {
  /** The module with its options given now. */
  static forRoot(options: MagicHourWebhooksOptions = {}): DynamicModule {
    const structure = structureOf(options);
    return MagicHourWebhooksModule.build(structure, AppConfigModule.forRoot(resolveModuleConfig(structure, options)));
  }

  /** The module with its settings made at start by `useFactory` (say, from the app's `ConfigService`). */
  static forRootAsync(options: MagicHourWebhooksAsyncOptions): DynamicModule {
    const { imports, inject, useFactory, ...rest } = options;
    const structure = structureOf(rest);
    const config = AppConfigModule.forRootAsync({
      imports,
      inject,
      useFactory: async (...args: never[]) =>
        resolveModuleConfig(structure, (await useFactory(...args)) satisfies MagicHourWebhooksSettings),
    });
    return MagicHourWebhooksModule.build(structure, config);
  }

  /**
   * The standalone service's use (`AppModule`): a configuration already validated from the environment,
   * on a data source it created and migrated itself.
   */
  static forService(config: AppConfig, structure: MagicHourWebhooksStructure): DynamicModule {
    return MagicHourWebhooksModule.build(
      { ...structure, role: config.role, downloadDir: config.downloadDir },
      AppConfigModule.forRoot(config),
    );
  }

  private static build(structure: MagicHourWebhooksStructure, config: DynamicModule): DynamicModule {
    const role = structure.role ?? 'all';
    const api = role !== 'worker';
    return {
      module: MagicHourWebhooksModule,
      imports: [
        config,
        LogSinkModule.forRoot(structure.logger),
        DatabaseModule.forRoot({ dataSourceName: structure.dataSourceName, migrationsRun: structure.migrationsRun ?? true }),
        MetricsModule,
        MagicHourApiModule,
        // Reconciliation's gauges on /metrics, in every role.
        ReconcileStatusModule,
        HandlersModule.register(structure.downloadDir ?? null, structure.handlers),
        // Intake first, so that its route is near the front of Express's router for every delivery.
        ...(api ? [WebhookModule.register(structure.webhookPath ?? WEBHOOK_ROUTE)] : []),
        ...(role !== 'api' ? [ProcessingModule, ReconcileModule, RetentionModule] : []),
        ...(api && structure.restApi !== false ? [ApiThrottlerModule, JobsApiModule, ReconcileApiModule, EventsModule] : []),
      ],
    };
  }
}
