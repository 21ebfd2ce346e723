import { withTimeout } from '../common/with-timeout.js';
import { InjectQueue } from '@nestjs/bull';
import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import type { Queue } from 'bull';
import { createHash } from 'node:crypto';
import { APP_CONFIG, type AppConfig } from '../config/app.config.js';
import {
  ENQUEUE_TIMEOUT_MS,
  KEEP_COMPLETED_JOBS,
  KEEP_FAILED_JOBS,
  PROCESS_ATTEMPTS,
  PROCESS_BACKOFF_MS,
  REPLICA_ACK_TIMEOUT_MS,
  WEBHOOK_QUEUE,
  QUEUE_BATCH_MAX,
  type QueuedEvent,
  type WebhookJobData,
} from './queue.constants.js';

/**
 * Waits until a replica holds every write `queue`'s connection made so far (Redis's `WAIT`, on that
 * connection); throws when none does within `REPLICA_ACK_TIMEOUT_MS`. Behind Sentinels a failover
 * promotes a replica, and what only the old master had is gone with it: a master that was already
 * replaced, or a write not yet copied. Such a hand-over must not count as made, so the relay makes it again.
 */
export async function confirmReplicated(queue: Queue): Promise<void> {
  const replicas = await queue.client.wait(1, REPLICA_ACK_TIMEOUT_MS);
  if (replicas < 1) throw new Error(`no replica confirmed the hand-over within ${REPLICA_ACK_TIMEOUT_MS} ms`);
}

/** How many of a queue's jobs are in each state that matters to an operator. */
export interface QueueJobCounts {
  waiting: number;
  active: number;
  failed: number;
  delayed: number;
}

/** A Bull queue's job counts, bounded by the enqueue timeout; throws when Redis is away or slow. */
export async function jobCountsOf(queue: Queue, isConnected: boolean): Promise<QueueJobCounts> {
  if (!isConnected) throw new Error(`Redis is ${queue.client.status}`);
  const counts = await withTimeout(queue.getJobCounts(), ENQUEUE_TIMEOUT_MS, 'Job counts');
  return { waiting: counts.waiting, active: counts.active, failed: counts.failed, delayed: counts.delayed };
}

/**
 * A Bull queue's jobs waiting for a worker, paused ones included (not delayed ones: those are retries
 * in their backoff), bounded by the enqueue timeout.
 */
export async function waitingJobsOf(queue: Queue, isConnected: boolean): Promise<number> {
  if (!isConnected) throw new Error(`Redis is ${queue.client.status}`);
  return withTimeout(queue.getJobCountByTypes(['waiting', 'paused']), ENQUEUE_TIMEOUT_MS, 'Job count');
}

/**
 * The producer side of the event queue. Enqueueing never throws and never waits more than about a
 * second: the event is already in Postgres, and the relay hands over whatever did not make it.
 */
@Injectable()
export class WebhookEventQueue implements OnModuleInit, OnModuleDestroy, BeforeApplicationShutdown {
  private readonly logger = new Logger(WebhookEventQueue.name);
  private lastErrorLog = 0;
  private readonly readyListeners: Array<() => void> = [];

  /** Behind Sentinels: a hand-over counts once a replica holds it (see `confirmReplicated`). */
  readonly waitForReplica: boolean;

  constructor(
    @InjectQueue(WEBHOOK_QUEUE) private readonly queue: Queue<WebhookJobData>,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.waitForReplica = config.redisSentinels.length > 0;
  }

  onModuleInit(): void {
    // An 'error' event with no listener would crash the process; Redis being away is expected.
    this.queue.on('error', (error: Error) => {
      const now = Date.now();
      if (now - this.lastErrorLog > 10_000) {
        this.lastErrorLog = now;
        this.logger.warn(`Redis unavailable: ${error.message}`);
      }
    });
    this.queue.client.on('ready', () => this.readyListeners.forEach((listener) => listener()));
  }

  onModuleDestroy(): void {
    this.readyListeners.length = 0;
  }

  /**
   * Stops taking jobs and waits for the ones under way, while Postgres is still open (it closes in the
   * next phase of the shutdown). `@nestjs/bull` closes the queue again later, which is then a no-op.
   */
  async beforeApplicationShutdown(): Promise<void> {
    await this.queue.close();
  }

  /** Calls `listener` each time the Redis connection becomes ready, such as after an outage. */
  onReady(listener: () => void): void {
    this.readyListeners.push(listener);
  }

  /** Whether Redis is connected now. */
  isConnected(): boolean {
    return this.queue.client.status === 'ready';
  }

  /**
   * Whether Redis still holds the marker `markIntact` left under the queue's prefix. Its absence means
   * Redis lost the queue's keys (flushed, deleted, restarted or failed over empty), whether or not a
   * reconnect was seen; then every job it held may be gone. Throws when Redis does not answer in time.
   */
  async isIntact(): Promise<boolean> {
    return (await this.bounded(this.queue.client.exists(this.markerKey()))) === 1;
  }

  /** Leaves the marker `isIntact` looks for; throws when Redis does not answer in time. */
  async markIntact(): Promise<void> {
    await this.bounded(this.queue.client.set(this.markerKey(), new Date().toISOString()));
  }

  /** The marker's key, among the queue's own keys (Bull's `toKey`), so that it goes when they go. */
  private markerKey(): string {
    return (this.queue as unknown as { toKey(type: string): string }).toKey('relay-marker');
  }

  /** Waits for a Redis call at most the enqueue timeout. */
  bounded<T>(call: Promise<T>): Promise<T> {
    return withTimeout(call, ENQUEUE_TIMEOUT_MS, 'Redis call');
  }

  /** The event queue's job counts; throws when Redis does not answer within the enqueue timeout. */
  jobCounts(): Promise<QueueJobCounts> {
    return jobCountsOf(this.queue, this.isConnected());
  }

  /** Jobs waiting for a worker (paused ones included); throws when Redis does not answer in time. */
  waitingJobs(): Promise<number> {
    return waitingJobsOf(this.queue, this.isConnected());
  }

  /** Round trip to Redis, bounded by the enqueue timeout; throws when Redis does not answer. */
  async ping(): Promise<void> {
    if (!this.isConnected()) throw new Error(`Redis is ${this.queue.client.status}`);
    await withTimeout(this.queue.client.ping(), ENQUEUE_TIMEOUT_MS, 'Redis ping');
  }

  /**
   * Hands stored events to the worker as one queue job per batch of up to `QUEUE_BATCH_MAX`. The job
   * id is derived from the event ids (the event id itself for a single event), so handing over the
   * same batch twice queues it once while the first is still in Redis; Postgres decides the rest.
   * Returns whether Redis took them all (behind Sentinels: and a replica holds them).
   */
  async enqueue(events: readonly QueuedEvent[], options: { fresh?: boolean } = {}): Promise<boolean> {
    if (events.length === 0) return true;
    if (!this.isConnected()) return false;
    const jobs = [];
    for (let start = 0; start < events.length; start += QUEUE_BATCH_MAX) {
      const batch = events.slice(start, start + QUEUE_BATCH_MAX);
      jobs.push({
        data: { events: batch },
        opts: {
          // A second hand-over (relay, replay) must not be mistaken for an earlier job Redis may still
          // keep under the same id; the worker's lock on each event keeps it from being applied twice.
          jobId: options.fresh ? `${jobIdOf(batch)}-${Date.now().toString(36)}-${start}` : jobIdOf(batch),
          attempts: PROCESS_ATTEMPTS,
          backoff: { type: 'exponential', delay: PROCESS_BACKOFF_MS },
          removeOnComplete: KEEP_COMPLETED_JOBS,
          removeOnFail: KEEP_FAILED_JOBS,
        },
      });
    }
    try {
      // One job (the usual case: a batch is one job up to QUEUE_BATCH_MAX events) goes without addBulk's
      // MULTI, whose ioredis transaction object is by far the largest allocation of an intake request.
      const added = jobs.length === 1 ? this.queue.add(jobs[0].data, jobs[0].opts) : this.queue.addBulk(jobs);
      await withTimeout<unknown>(added, ENQUEUE_TIMEOUT_MS, 'Enqueue');
      if (this.waitForReplica) await confirmReplicated(this.queue);
      return true;
    } catch (error) {
      this.logger.warn(`Could not enqueue ${events.length} event(s); the relay will retry: ${(error as Error).message}`);
      return false;
    }
  }
}

/** A queue job id that depends only on the events it carries. */
export function jobIdOf(events: readonly QueuedEvent[]): string {
  if (events.length === 1) return events[0].eventId;
  const hash = createHash('sha256');
  for (const event of events) hash.update(event.eventId);
  return `batch-${hash.digest('hex').slice(0, 40)}`;
}
