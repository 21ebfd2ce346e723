import { DynamicModule, Module, type Provider, RequestMethod } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { Logger } from 'pino';
import { AdminModule } from './admin/admin.module.js';
import { HttpErrorFilter } from './common/http-error.filter.js';
import { runsApi, type AppConfig } from './config/app.config.js';
import { dataSourceOptions } from './database/data-source.options.js';
import { HealthModule } from './health/health.module.js';
import { LoggingModule } from './logging/logging.module.js';
import { MagicHourWebhooksModule } from './magic-hour-webhooks.module.js';
import { MetricsApiModule } from './metrics/metrics.module.js';
import { WEBHOOK_ROUTE } from './queue/queue.constants.js';

/**
 * What the standalone service serves besides the library's routes: `/metrics`, the console (API role)
 * and `/health`. A level below `AppModule`, after `MagicHourWebhooksModule`: Nest registers middleware
 * and routes level by level of the import tree, so intake's come before these in Express's router,
 * which every delivery walks in order.
 */
@Module({})
class ServiceEndpointsModule {
  static register(config: AppConfig): DynamicModule {
    return { module: ServiceEndpointsModule, imports: [MetricsApiModule, ...(runsApi(config) ? [AdminModule] : []), HealthModule] };
  }
}

/**
 * The standalone service: `MagicHourWebhooksModule` on a database and a logger of its own, shaped by the
 * configuration's role (`api`, `worker` or `all`), with what only the service has: request logging,
 * `/health`, `/metrics` and the console.
 */
@Module({})
export class AppModule {
  /**
   * @param root the process's root pino logger (`createRootLogger`)
   * @param extraHandlers handler providers beyond those listed in `HandlersModule`
   */
  static forRoot(config: AppConfig, root: Logger, extraHandlers: Provider[] = []): DynamicModule {
    return {
      module: AppModule,
      imports: [
        LoggingModule.forRoot(root, { ownRequestLine: [{ path: WEBHOOK_ROUTE, method: RequestMethod.POST }] }),
        TypeOrmModule.forRoot({ ...dataSourceOptions(config), retryAttempts: 5, retryDelay: 2000 }),
        // The database was created and migrated before the app was built (`createApp`).
        MagicHourWebhooksModule.forService(config, { logger: root, handlers: extraHandlers, migrationsRun: false }),
        ServiceEndpointsModule.register(config),
      ],
      providers: [{ provide: APP_FILTER, useClass: HttpErrorFilter }],
    };
  }
}
