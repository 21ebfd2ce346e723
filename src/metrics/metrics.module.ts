import { Global, Module } from '@nestjs/common';
import { WebhookQueueModule } from '../queue/webhook-queue.module.js';
import { MetricsController } from './metrics.controller.js';
import { MetricsTokenGuard } from './metrics-token.guard.js';
import { MetricsService } from './metrics.service.js';
import { QueueMetrics } from './queue-metrics.js';

/** Prometheus metrics: `MetricsService` for the code that records them, `GET /metrics` to read them. */
@Global()
@Module({
  imports: [WebhookQueueModule],
  controllers: [MetricsController],
  providers: [MetricsService, QueueMetrics, MetricsTokenGuard],
  exports: [MetricsService],
})
export class MetricsModule {}
