import { BullModule } from '@nestjs/bull';
import { Module } from '@nestjs/common';
import { redisConnection } from '../common/redis-connection.js';
import { APP_CONFIG, type AppConfig } from '../config/app.config.js';
import { HandlerRunQueue } from './handler-run.queue.js';
import { QueueBoard } from './queue-board.js';
import { WebhookEventQueue } from './webhook-event.queue.js';
import {
  BULL_CONFIG_KEY,
  HANDLER_QUEUE,
  JOB_LOCK_MS,
  REDIS_MAX_RECONNECT_DELAY_MS,
  STALLED_CHECK_INTERVAL_MS,
  WEBHOOK_QUEUE,
} from './queue.constants.js';

/**
 * The Bull connection, the queues' producers and Bull Board over them. `@nestjs/bull` stays inside
 * this module, the producers, the board and the processors, so the queue library can change in one place.
 */
@Module({
  imports: [
    // Under a key of its own, so a host app's `BullModule.forRoot` (its default configuration) is left alone.
    BullModule.forRootAsync(BULL_CONFIG_KEY, {
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => ({
        prefix: config.queuePrefix,
        // Not Bull's `url`: its parser knows neither rediss:// nor Sentinels.
        redis: {
          ...redisConnection(config),
          connectTimeout: 2000,
          retryStrategy: (times: number) => Math.min(times * 200, REDIS_MAX_RECONNECT_DELAY_MS),
        },
        settings: { lockDuration: JOB_LOCK_MS, stalledInterval: STALLED_CHECK_INTERVAL_MS },
      }),
    }),
    BullModule.registerQueue({ name: WEBHOOK_QUEUE, configKey: BULL_CONFIG_KEY }, { name: HANDLER_QUEUE, configKey: BULL_CONFIG_KEY }),
  ],
  providers: [WebhookEventQueue, HandlerRunQueue, QueueBoard],
  exports: [WebhookEventQueue, HandlerRunQueue, QueueBoard],
})
export class WebhookQueueModule {}
