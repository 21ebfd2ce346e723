import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { WebhookQueueModule } from '../queue/webhook-queue.module.js';
import { ReconcileStatusModule } from '../reconcile/reconcile-status.module.js';
import { HealthController } from './health.controller.js';
import { ReadinessService } from './readiness.service.js';

/** `GET /health`, `/health/live` and `/health/ready`, in every role. */
@Module({
  imports: [TerminusModule, WebhookQueueModule, ReconcileStatusModule],
  controllers: [HealthController],
  providers: [ReadinessService],
})
export class HealthModule {}
