import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { WebhookQueueModule } from '../queue/webhook-queue.module.js';
import { HealthController } from './health.controller.js';

/** `GET /health`, in every role. */
@Module({
  imports: [TerminusModule, WebhookQueueModule],
  controllers: [HealthController],
})
export class HealthModule {}
