import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { WebhookQueueModule } from '../queue/webhook-queue.module.js';
import { ReconcileStatusModule } from '../reconcile/reconcile-status.module.js';
import { HealthController } from './health.controller.js';

/** `GET /health`, in every role. */
@Module({
  imports: [TerminusModule, WebhookQueueModule, ReconcileStatusModule],
  controllers: [HealthController],
})
export class HealthModule {}
