import { Module } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app.config.js';
import { MagicHourApiClient } from '../magic-hour/magic-hour-api.client.js';
import { WebhookQueueModule } from '../queue/webhook-queue.module.js';
import { WebhookEventParser } from '../webhook/webhook-event.parser.js';
import { WebhookEventRepository } from '../webhook/webhook-event.repository.js';
import { ApiCallBudget } from './api-call-budget.js';
import { ReconcileRepository } from './reconcile.repository.js';
import { Reconciler } from './reconciler.service.js';

/** The reconciler, loaded in the worker role when `MAGIC_HOUR_API_KEY` is set. */
@Module({
  imports: [WebhookQueueModule],
  providers: [
    ReconcileRepository,
    MagicHourApiClient,
    WebhookEventRepository,
    WebhookEventParser,
    {
      provide: ApiCallBudget,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => new ApiCallBudget(config.redisUrl, config.queuePrefix, config.reconcile?.maxPerSecond ?? 1),
    },
    Reconciler,
  ],
  exports: [Reconciler],
})
export class ReconcileModule {}
