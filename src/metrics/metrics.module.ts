import { Global, Module } from '@nestjs/common';
import { WebhookQueueModule } from '../queue/webhook-queue.module.js';
import { MetricsController } from './metrics.controller.js';
import { MetricsTokenGuard } from './metrics-token.guard.js';
import { MetricsService } from './metrics.service.js';
import { QueueMetrics } from './queue-metrics.js';

/** Prometheus metrics: `MetricsService` for the code that records them (`MetricsApiModule` serves them). */
@Global()
@Module({
  imports: [WebhookQueueModule],
  providers: [MetricsService, QueueMetrics],
  exports: [MetricsService],
})
export class MetricsModule {}

/** `GET /metrics`, where Prometheus reads `MetricsService`'s registry; the standalone service's. */
@Module({
  controllers: [MetricsController],
  providers: [MetricsTokenGuard],
})
export class MetricsApiModule {}
