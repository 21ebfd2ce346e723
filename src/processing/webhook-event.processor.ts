import { Process, Processor } from '@nestjs/bull';
import type { Job } from 'bull';
import { PinoLogger } from '../logging/pino-logger.js';
import { EventProcessingService, EventsFailedError, type ProcessSummary } from './event-processing.service.js';
import { WEBHOOK_QUEUE, WORKER_CONCURRENCY, type WebhookJobData } from '../queue/queue.constants.js';

/**
 * The event queue's one consumer, a thin adapter: it hands each job's events to
 * `EventProcessingService` and rethrows what fails, so that Bull retries the job with backoff (on a
 * retry the events already processed are skipped, so only the failed ones run again). A job whose
 * failures no retry can mend is discarded, so Bull fails it at once.
 */
@Processor(WEBHOOK_QUEUE)
export class WebhookEventProcessor {
  constructor(
    private readonly processing: EventProcessingService,
    private readonly log: PinoLogger,
  ) {}

  /** Every line logged while a queue job runs carries its id (`queueJob`). */
  @Process({ concurrency: WORKER_CONCURRENCY })
  process(job: Job<WebhookJobData>): Promise<ProcessSummary> {
    return this.log.runInContext(() => this.run(job), { bindings: { queueJob: job.id } });
  }

  private async run(job: Job<WebhookJobData>): Promise<ProcessSummary> {
    const number = job.attemptsMade + 1;
    try {
      return await this.processing.process(job.data.events, { number, final: number >= (job.opts.attempts ?? 1) });
    } catch (error) {
      if (error instanceof EventsFailedError && !error.retryable) await job.discard();
      throw error;
    }
  }
}
