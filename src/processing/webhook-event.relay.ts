import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { HandlerRunRepository } from '../handlers/handler-run.repository.js';
import { HandlerRunQueue } from '../queue/handler-run.queue.js';
import { WebhookEventQueue } from '../queue/webhook-event.queue.js';
import { WebhookEventRepository } from '../webhook/webhook-event.repository.js';
import type { QueuedEvent } from '../queue/queue.constants.js';
import {
  RELAY_BATCH_SIZE,
  RELAY_GRACE_MS,
  RELAY_INTERVAL_MS,
  RELAY_REQUEUE_AFTER_MS,
  RELAY_REQUEUE_CEILING_MS,
} from '../queue/queue.constants.js';

/**
 * Postgres is the inbox and Redis only dispatches, so this relay closes the gap between them. An event
 * is marked queued only once Redis confirmed it; the relay queues every waiting event left unmarked
 * for `RELAY_GRACE_MS` (Redis was down, the hand-over failed, or the process stopped between its
 * commit and its hand-over). Each pass also checks that Redis still holds the queue's marker: when it
 * is gone, Redis lost what it held, and every waiting event and handler run is unmarked to be queued
 * again. Queueing an event twice is harmless: its hand-overs go under fresh job ids, and the worker
 * locks each event and skips one already processed.
 */
@Injectable()
export class WebhookEventRelay implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(WebhookEventRelay.name);
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly events: WebhookEventRepository,
    private readonly queue: WebhookEventQueue,
    private readonly handlerRuns: HandlerRunRepository,
    private readonly handlerQueue: HandlerRunQueue,
  ) {}

  onApplicationBootstrap(): void {
    // Not needed for correctness (every pass checks the marker); a reconnect only makes the check sooner.
    this.queue.onReady(() => void this.tick());
    this.timer = setInterval(() => void this.tick(), RELAY_INTERVAL_MS);
    void this.tick();
  }

  /** Stops before the queues close (their `beforeApplicationShutdown`), so no pass runs against them. */
  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.running;
  }

  /** Runs one pass unless one is under way; resolves when the pass under way ends. */
  tick(): Promise<void> {
    if (!this.running && !this.stopped) {
      this.running = this.pass()
        .catch((error: Error) => this.logger.warn(`Relay pass failed; will try again: ${error.message}`))
        .finally(() => (this.running = undefined));
    }
    return this.running ?? Promise.resolve();
  }

  private async pass(): Promise<void> {
    if (!this.queue.isConnected()) return;
    if (!(await this.queue.isIntact())) await this.forgetHandOvers();
    const requeueAfter = await this.requeueAfterMs(this.queue);
    for (;;) {
      const batch = await this.events.findUnqueued(RELAY_GRACE_MS, requeueAfter, RELAY_BATCH_SIZE);
      if (batch.length === 0 || !(await this.handOver(batch))) break;
      this.logger.log(`Queued ${batch.length} stored event(s) that had not reached the queue`);
      if (batch.length < RELAY_BATCH_SIZE || this.stopped) break;
    }
    const withRuns = await this.handlerRuns.findUnqueued(RELAY_GRACE_MS, await this.requeueAfterMs(this.handlerQueue), RELAY_BATCH_SIZE);
    if (withRuns.length > 0 && (await this.handlerQueue.enqueue(withRuns, { fresh: true }))) {
      await this.handlerRuns.markEnqueued(withRuns);
      this.logger.log(`Queued the handlers of ${withRuns.length} event(s) that had not reached the queue`);
    }
  }

  /**
   * How long ago what is still waiting must have been queued for this pass to queue it again, in
   * case Redis lost its job: `RELAY_REQUEUE_AFTER_MS` when `queue` has no job waiting. While it has,
   * those events are most likely among them, behind a backlog, and a fresh job for each every
   * `RELAY_REQUEUE_AFTER_MS` would pile up duplicates for the workers to skip for as long as the
   * backlog lasts; then only past `RELAY_REQUEUE_CEILING_MS`, so that a lost job is never left for
   * good. (Redis losing everything is the sweep's case, after a reconnect.)
   */
  private async requeueAfterMs(queue: { waitingJobs(): Promise<number> }): Promise<number> {
    const waiting = await queue.waitingJobs().catch(() => 1);
    return waiting === 0 ? RELAY_REQUEUE_AFTER_MS : RELAY_REQUEUE_CEILING_MS;
  }

  /**
   * Redis lost its data: unmarks every waiting event and open handler run, so that this pass and the
   * next ones (of any worker) queue them all again, then leaves the marker. Unmarking first means that
   * a process stopping half-way leaves the marker missing, for the next pass to unmark again.
   */
  private async forgetHandOvers(): Promise<void> {
    const events = await this.events.forgetHandOvers();
    await this.handlerRuns.forgetHandOvers();
    await this.queue.markIntact();
    if (events > 0) this.logger.warn(`Redis lost the queue's data; queueing ${events} waiting event(s) again`);
  }

  private async handOver(batch: readonly QueuedEvent[]): Promise<boolean> {
    if (!(await this.queue.enqueue(batch, { fresh: true }))) return false;
    await this.events.markEnqueued(batch.map((event) => event.eventId));
    return true;
  }
}
