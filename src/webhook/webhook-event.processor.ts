import { Process, Processor } from '@nestjs/bull';
import { Logger } from '@nestjs/common';
import type { Job } from 'bull';
import { EventNotFoundError } from '../common/domain.errors.js';
import type { Media } from './magic-hour-event.types.js';
import { AudioEventService } from './media/audio-event.service.js';
import { ImageEventService } from './media/image-event.service.js';
import type { MediaEventHandler } from './media/media-event.service.js';
import { VideoEventService } from './media/video-event.service.js';
import { WebhookEventRepository } from './webhook-event.repository.js';
import { WEBHOOK_QUEUE, WORKER_CONCURRENCY, type WebhookJobData } from './webhook.constants.js';

/**
 * The queue's one consumer: hands each event to its media's service. Failures are recorded and
 * rethrown so that Bull retries them with backoff; the last failure marks the event `failed`. Only an
 * event that is not stored at all is dropped, since no retry can help it.
 */
@Processor(WEBHOOK_QUEUE)
export class WebhookEventProcessor {
  private readonly logger = new Logger(WebhookEventProcessor.name);
  private readonly services = new Map<Media, MediaEventHandler>();

  constructor(
    video: VideoEventService,
    image: ImageEventService,
    audio: AudioEventService,
    private readonly events: WebhookEventRepository,
  ) {
    for (const service of [video, image, audio]) this.services.set(service.media, service);
  }

  @Process({ concurrency: WORKER_CONCURRENCY })
  async process(job: Job<WebhookJobData>): Promise<string> {
    const { eventId, media } = job.data;
    try {
      const service = this.services.get(media);
      if (!service) throw new Error(`No service processes ${media} events`);
      return await service.process(eventId);
    } catch (error) {
      if (error instanceof EventNotFoundError) {
        this.logger.warn(`${error.message}; dropping its queue job`);
        return 'not-stored';
      }
      const final = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      const message = error instanceof Error ? error.message : String(error);
      this.logger.error(`Event ${eventId} failed (attempt ${job.attemptsMade + 1}${final ? ', last' : ''}): ${message}`);
      await this.events.recordFailure(eventId, message, final).catch(() => undefined);
      throw error;
    }
  }
}
