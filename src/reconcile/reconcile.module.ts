import { Module } from '@nestjs/common';
import { WebhookQueueModule } from '../queue/webhook-queue.module.js';
import { WebhookEventParser } from '../webhook/webhook-event.parser.js';
import { WebhookEventRepository } from '../webhook/webhook-event.repository.js';
import { ReconcileRepository } from './reconcile.repository.js';
import { Reconciler } from './reconciler.service.js';

/** The reconciler, loaded in the worker role when `MAGIC_HOUR_API_KEY` is set (the API client and budget come from `MagicHourApiModule`). */
@Module({
  imports: [WebhookQueueModule],
  providers: [ReconcileRepository, WebhookEventRepository, WebhookEventParser, Reconciler],
  exports: [Reconciler],
})
export class ReconcileModule {}
