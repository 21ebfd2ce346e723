import { DynamicModule, Module, type Provider, RequestMethod } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { Logger } from 'pino';
import { AdminModule } from './admin/admin.module.js';
import { ApiThrottlerModule } from './common/api-throttler.module.js';
import { HttpErrorFilter } from './common/http-error.filter.js';
import { runsApi, runsWorker, type AppConfig } from './config/app.config.js';
import { AppConfigModule } from './config/config.module.js';
import { dataSourceOptions } from './database/data-source.options.js';
import { EventsModule } from './events/events.module.js';
import { HandlersModule } from './handlers/handlers.module.js';
import { HealthModule } from './health/health.module.js';
import { JobsApiModule } from './jobs/jobs-api.module.js';
import { LoggingModule } from './logging/logging.module.js';
import { MetricsModule } from './metrics/metrics.module.js';
import { WEBHOOK_ROUTE } from './queue/queue.constants.js';
import { ProcessingModule } from './processing/processing.module.js';
import { MagicHourApiModule } from './reconcile/magic-hour-api.module.js';
import { ReconcileApiModule } from './reconcile/reconcile-api.module.js';
import { ReconcileModule } from './reconcile/reconcile.module.js';
import { WebhookModule } from './webhook/webhook.module.js';

/** The whole service, shaped by the configuration's role (`api`, `worker` or `all`). */
@Module({})
export class AppModule {
  /**
   * @param root the process's root pino logger (`createRootLogger`)
   * @param extraHandlers handler providers beyond those listed in `HandlersModule`
   */
  static forRoot(config: AppConfig, root: Logger, extraHandlers: Provider[] = []): DynamicModule {
    const api = runsApi(config);
    return {
      module: AppModule,
      imports: [
        AppConfigModule.forRoot(config),
        LoggingModule.forRoot(root, { ownRequestLine: [{ path: WEBHOOK_ROUTE, method: RequestMethod.POST }] }),
        MetricsModule,
        TypeOrmModule.forRoot({ ...dataSourceOptions(config.databaseUrl), retryAttempts: 5, retryDelay: 2000 }),
        MagicHourApiModule,
        HandlersModule.register(config, extraHandlers),
        // Intake first, so that its route is near the front of Express's router for every delivery.
        ...(api ? [WebhookModule] : []),
        ...(runsWorker(config) ? [ProcessingModule] : []),
        ...(runsWorker(config) && config.reconcile ? [ReconcileModule] : []),
        ...(api ? [ApiThrottlerModule, JobsApiModule, ReconcileApiModule, EventsModule, AdminModule] : []),
        HealthModule,
      ],
      providers: [{ provide: APP_FILTER, useClass: HttpErrorFilter }],
    };
  }
}
