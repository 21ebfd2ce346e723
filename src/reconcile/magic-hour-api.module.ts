import { Global, Module } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app.config.js';
import { DOWNLOAD_URL_REFRESHER } from '../handlers/download-url-refresher.js';
import { JobsModule } from '../jobs/jobs.module.js';
import { MagicHourApiClient } from '../magic-hour/magic-hour-api.client.js';
import { ApiCallBudget } from './api-call-budget.js';
import { DownloadRefresher } from './download-refresher.service.js';
import { ReconcileRepository } from './reconcile.repository.js';

/**
 * Magic Hour's API for the whole process: the SDK client, the deployment's call budget (one Redis
 * connection, opened at the first call) and the download refresher, also under
 * `DOWNLOAD_URL_REFRESHER` for the download handler. In every role.
 */
@Global()
@Module({
  imports: [JobsModule],
  providers: [
    MagicHourApiClient,
    ReconcileRepository,
    {
      provide: ApiCallBudget,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => new ApiCallBudget(config, config.queuePrefix, config.reconcile?.maxPerSecond ?? 1),
    },
    DownloadRefresher,
    { provide: DOWNLOAD_URL_REFRESHER, useExisting: DownloadRefresher },
  ],
  exports: [MagicHourApiClient, ApiCallBudget, DownloadRefresher, DOWNLOAD_URL_REFRESHER],
})
export class MagicHourApiModule {}
