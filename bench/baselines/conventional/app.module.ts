import { BullModule } from '@nestjs/bull';
import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { conventionalConfig, WEBHOOK_QUEUE } from './conventional.config.js';
import { JobEntity } from './job.entity.js';
import { WebhookEventEntity } from './webhook-event.entity.js';
import { WebhookController } from './webhook.controller.js';
import { WebhookProcessor } from './webhook.processor.js';
import { WebhookService } from './webhook.service.js';

/**
 * The conventional implementation of the card, as a baseline for `npm run bench`. It runs only in
 * the bench's own databases, so `synchronize` creates its tables.
 */
@Module({
  imports: [
    TypeOrmModule.forRoot({
      type: 'postgres',
      url: conventionalConfig.databaseUrl,
      entities: [WebhookEventEntity, JobEntity],
      synchronize: true,
    }),
    TypeOrmModule.forFeature([WebhookEventEntity]),
    BullModule.forRoot({ url: conventionalConfig.redisUrl, prefix: conventionalConfig.queuePrefix }),
    BullModule.registerQueue({
      name: WEBHOOK_QUEUE,
      defaultJobOptions: { attempts: 3, backoff: { type: 'exponential', delay: 1000 }, removeOnComplete: true },
    }),
  ],
  controllers: [WebhookController],
  providers: [WebhookService, ...(conventionalConfig.worker ? [WebhookProcessor] : [])],
})
export class AppModule {}
