import { DynamicModule, Module, type Provider } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { LoggerModule, type Params as LoggerParams } from 'nestjs-pino';
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
import { createRootLogger, loggerParams } from './logging/log-options.js';
import { MetricsModule } from './metrics/metrics.module.js';
import { WebhookModule } from './webhook/webhook.module.js';

/** The whole service, shaped by the configuration's role (`api`, `worker` or `all`). */
@Module({})
export class AppModule {
  /**
   * @param extraHandlers handler providers beyond those listed in `HandlersModule`
   * @param logging `nestjs-pino`'s settings (`createApp` makes them); by default from the configuration
   */
  static forRoot(
    config: AppConfig,
    extraHandlers: Provider[] = [],
    logging: LoggerParams = loggerParams(createRootLogger(config)),
  ): DynamicModule {
    const api = runsApi(config);
    return {
      module: AppModule,
      imports: [
        AppConfigModule.forRoot(config),
        LoggerModule.forRoot(logging),
        MetricsModule,
        TypeOrmModule.forRoot({ ...dataSourceOptions(config.databaseUrl), retryAttempts: 5, retryDelay: 2000 }),
        HandlersModule.register(config, extraHandlers),
        WebhookModule.register({ api, worker: runsWorker(config) }),
        ...(api ? [ApiThrottlerModule, JobsApiModule, EventsModule, AdminModule] : []),
        HealthModule,
      ],
      providers: [{ provide: APP_FILTER, useClass: HttpErrorFilter }],
    };
  }
}
