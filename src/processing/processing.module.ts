import { Module } from '@nestjs/common';
import { HandlerRunProcessor } from '../handlers/handler-run.processor.js';
import { JobsModule } from '../jobs/jobs.module.js';
import { WebhookQueueModule } from '../queue/webhook-queue.module.js';
import { WebhookEventRepository } from '../webhook/webhook-event.repository.js';
import { EventProcessingService } from './event-processing.service.js';
import { AudioEventService } from './media/audio-event.service.js';
import { ImageEventService } from './media/image-event.service.js';
import { VideoEventService } from './media/video-event.service.js';
import { WebhookEventProcessor } from './webhook-event.processor.js';
import { WebhookEventRelay } from './webhook-event.relay.js';

/**
 * The worker (`APP_ROLE` `worker` or `all`): the queue's processor, the service that applies events to
 * their jobs with the per-media mappers, the handler-run processor, and the relay that queues again what
 * Redis missed.
 */
@Module({
  imports: [WebhookQueueModule, JobsModule],
  providers: [
    WebhookEventRepository,
    VideoEventService,
    ImageEventService,
    AudioEventService,
    EventProcessingService,
    WebhookEventProcessor,
    HandlerRunProcessor,
    WebhookEventRelay,
  ],
})
export class ProcessingModule {}
