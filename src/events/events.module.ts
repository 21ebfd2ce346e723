import { Module } from '@nestjs/common';
import { ApiKeyGuard } from '../common/api-key.guard.js';
import { WebhookQueueModule } from '../queue/webhook-queue.module.js';
import { WebhookEventParser } from '../webhook/webhook-event.parser.js';
import { WebhookEventRepository } from '../webhook/webhook-event.repository.js';
import { EventsController } from './events.controller.js';
import { EventsService } from './events.service.js';

/** `GET /events`, `GET /events/:id`, `POST /events/:id/replay`, `POST /events/replay`; HTTP role only. */
@Module({
  imports: [WebhookQueueModule],
  controllers: [EventsController],
  providers: [WebhookEventRepository, EventsService, WebhookEventParser, ApiKeyGuard],
  exports: [EventsService],
})
export class EventsModule {}
