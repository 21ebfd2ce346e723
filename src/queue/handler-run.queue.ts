import { InjectQueue } from '@nestjs/bull';
import { BeforeApplicationShutdown, Inject, Injectable, Logger } from '@nestjs/common';
import type { Queue } from 'bull';
import { APP_CONFIG, type AppConfig } from '../config/app.config.js';
import { HANDLER_QUEUE, KEEP_COMPLETED_JOBS, KEEP_FAILED_JOBS, type HandlerJobData } from './queue.constants.js';
import { confirmReplicated, jobCountsOf, waitingJobsOf, WebhookEventQueue, type QueueJobCounts } from './webhook-event.queue.js';

/**
 * The producer side of the handler queue: one queue job per event whose handlers are to run, retried
 * by Bull with `HANDLER_ATTEMPTS` and exponential backoff from `HANDLER_BACKOFF_MS`.
 */
@Injectable()
export class HandlerRunQueue implements BeforeApplicationShutdown {
  private readonly logger = new Logger(HandlerRunQueue.name);

  constructor(
    @InjectQueue(HANDLER_QUEUE) private readonly queue: Queue<HandlerJobData>,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly events: WebhookEventQueue,
  ) {}

  /** The handler queue's job counts; throws when Redis does not answer within the enqueue timeout. */
  jobCounts(): Promise<QueueJobCounts> {
    return jobCountsOf(this.queue, this.events.isConnected());
  }

  /** Jobs waiting for a worker (paused ones included); throws when Redis does not answer in time. */
  waitingJobs(): Promise<number> {
    return waitingJobsOf(this.queue, this.events.isConnected());
  }

  /** Lets the handler runs under way finish while Postgres is still open; see `WebhookEventQueue`. */
  async beforeApplicationShutdown(): Promise<void> {
    await this.queue.close();
  }

  /**
   * Queues the events' handlers. A first hand-over's job id is derived from the event; a later one
   * (relay, replay) gets a fresh id, since Redis may still keep the first job. Runs are claimed in
   * Postgres before they run, so two jobs for one event never run a handler twice at once.
   * Returns whether Redis took them (behind Sentinels: and a replica holds them).
   */
  async enqueue(eventIds: readonly string[], options: { fresh?: boolean } = {}): Promise<boolean> {
    if (eventIds.length === 0) return true;
    if (!this.events.isConnected()) return false;
    try {
      await this.events.bounded(
        this.queue.addBulk(
          eventIds.map((eventId) => ({
            data: { eventId },
            opts: {
              jobId: options.fresh ? `handlers-${eventId}-${Date.now().toString(36)}` : `handlers-${eventId}`,
              attempts: this.config.handlerAttempts,
              backoff: { type: 'exponential', delay: this.config.handlerBackoffMs },
              removeOnComplete: KEEP_COMPLETED_JOBS,
              removeOnFail: KEEP_FAILED_JOBS,
            },
          })),
        ),
      );
      if (this.events.waitForReplica) await confirmReplicated(this.queue);
      return true;
    } catch (error) {
      this.logger.warn(`Could not queue handlers of ${eventIds.length} event(s); the relay will retry: ${(error as Error).message}`);
      return false;
    }
  }
}
