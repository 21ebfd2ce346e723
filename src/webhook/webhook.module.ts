import { DynamicModule, Module, type Provider } from '@nestjs/common';
import { JobsModule } from '../jobs/jobs.module.js';
import { EventProcessingService } from '../processing/event-processing.service.js';
import { AudioEventService } from '../processing/media/audio-event.service.js';
import { ImageEventService } from '../processing/media/image-event.service.js';
import { VideoEventService } from '../processing/media/video-event.service.js';
import { HandlerRunProcessor } from '../handlers/handler-run.processor.js';
import { WebhookEventProcessor } from '../processing/webhook-event.processor.js';
import { WebhookEventRelay } from '../processing/webhook-event.relay.js';
import { WebhookEventRepository } from './webhook-event.repository.js';
import { WebhookQueueModule } from '../queue/webhook-queue.module.js';

/** Whether this process runs the worker half of the pipeline (intake is `WebhookIntakeModule`). */
export interface WebhookModuleOptions {
  /** Processing: the queue consumer, the media services and the relay. */
  worker: boolean;
}

/** Receiving, storing, queueing and processing Magic Hour's events. */
@Module({})
export class WebhookModule {
  static register(options: WebhookModuleOptions): DynamicModule {
    const providers: Provider[] = [WebhookEventRepository];
    if (options.worker) {
      providers.push(
        VideoEventService,
        ImageEventService,
        AudioEventService,
        EventProcessingService,
        WebhookEventProcessor,
        HandlerRunProcessor,
        WebhookEventRelay,
      );
    }
    return {
      module: WebhookModule,
      imports: [WebhookQueueModule, JobsModule],
      providers,
    };
  }
}
