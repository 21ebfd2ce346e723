import { Process, Processor } from '@nestjs/bull';
import type { Job } from 'bull';
import { HandlerRunRepository } from './handler-run.repository.js';
import { HandlerRunner } from './handler-runner.service.js';
import { WebhookEventRepository } from '../webhook/webhook-event.repository.js';
import { HANDLER_CONCURRENCY, HANDLER_QUEUE, type HandlerJobData } from '../queue/queue.constants.js';

/** What one handler queue job did. */
export interface HandlerJobSummary {
  failed: number;
  dead: number;
}

/**
 * The handler queue's consumer: runs an event's handlers that have not succeeded. While any failed
 * run can still be retried it rethrows, so Bull retries with backoff and only those run again. Once
 * none can, an event with a dead letter is marked `failed` with the handlers' errors.
 */
@Processor(HANDLER_QUEUE)
export class HandlerRunProcessor {
  constructor(
    private readonly runner: HandlerRunner,
    private readonly runs: HandlerRunRepository,
    private readonly events: WebhookEventRepository,
  ) {}

  @Process({ concurrency: HANDLER_CONCURRENCY })
  async process(job: Job<HandlerJobData>): Promise<HandlerJobSummary> {
    const { eventId } = job.data;
    const failed = await this.runner.runPending(eventId, job.attemptsMade + 1, job.opts.attempts ?? 1);
    const retryable = failed.filter((run) => !run.dead);
    if (retryable.length > 0) {
      throw new Error(`${retryable.map((run) => `${run.handler}: ${run.error.message}`).join('; ')}`);
    }
    const dead = (await this.runs.forEvents([eventId])).filter((run) => run.status === 'dead');
    if (dead.length > 0) {
      await this.events.markHandlersDead(eventId, dead.map((run) => `${run.handler}: ${run.lastError}`).join('; '));
    } else {
      await this.events.markHandlersRecovered(eventId);
    }
    return { failed: failed.length, dead: dead.length };
  }
}
