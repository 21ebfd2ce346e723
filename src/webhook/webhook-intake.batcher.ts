import { Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { StorageUnavailableError } from '../common/domain.errors.js';
import { MetricsService } from '../metrics/metrics.service.js';
import type { Media } from '../magic-hour/magic-hour-event.types.js';
import { WebhookEventQueue } from '../queue/webhook-event.queue.js';
import { WebhookEventRepository, type DuplicateOutcome, type EventConflict, type NewWebhookEvent } from './webhook-event.repository.js';
import {
  HANDOVER_DELAY_MS,
  INTAKE_BATCH_MAX,
  INTAKE_BATCHES_IN_FLIGHT,
  QUEUE_BATCH_MAX,
  type QueuedEvent,
} from '../queue/queue.constants.js';

/** Postgres's classes of errors about the data itself: 22 data exception, 23 constraint, 54 limits. */
const isDataError = (error: unknown): boolean => {
  const { code } = error as { code?: unknown };
  return typeof code === 'string' && /^(22|23|54)/.test(code);
};

/** What became of one stored event. */
export interface StoreOutcome {
  /**
   * Another delivery with the same key was stored first (in an earlier batch or this one). `false`
   * when this delivery was stored, including when it replaced a stale event of its key.
   */
  duplicate: boolean;
}

interface Waiting {
  row: NewWebhookEvent;
  resolve(outcome: StoreOutcome): void;
  reject(error: unknown): void;
}

/**
 * Group commit for intake. Requests that arrive together are stored with one multi-row
 * `INSERT ... ON CONFLICT DO NOTHING` (one transaction, one WAL flush); each request is answered when
 * its batch has committed. At low load a batch is one request and nothing waits; under load the
 * batches grow by themselves while earlier ones are in flight.
 *
 * The answer does not wait for Redis: once Postgres has the event it cannot be lost, and an event
 * that does not reach the queue is handed over by the relay. Keeping the Redis round trip out of the
 * answer takes it off every request's latency and frees the batch slot for the next batch sooner.
 * The hand-over itself gathers the events of the batches that commit within `HANDOVER_DELAY_MS` into
 * one queue call, so that at low load, where each batch is one event, Redis is not called per request.
 */
@Injectable()
export class WebhookIntakeBatcher implements OnModuleDestroy {
  private readonly logger = new Logger(WebhookIntakeBatcher.name);
  private waiting: Waiting[] = [];
  private inFlight = 0;
  /**
   * Work still under way: batches being written, hand-overs to the queue, in-doubt releases. A stop
   * waits for all of it (`onModuleDestroy`), so that an event a batch commits while the process stops
   * is still queued now rather than by the relay a few seconds later.
   */
  private readonly underWay = new Set<Promise<unknown>>();
  /**
   * How long committed events wait to be gathered into one hand-over (`HANDOVER_DELAY_MS`). A field
   * rather than the constant only so that a test can widen the window and see what it gathers.
   */
  handOverDelayMs = HANDOVER_DELAY_MS;
  /** Committed events waiting for the next hand-over to the queue (`handOver`). */
  private toHandOver: QueuedEvent[] = [];
  private handOverTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly events: WebhookEventRepository,
    private readonly queue: WebhookEventQueue,
    private readonly metrics: MetricsService,
  ) {}

  /**
   * Stores the event (once per key) and, when it is to be processed, hands it to the queue.
   * @throws StorageUnavailableError when Postgres could not store the batch
   */
  store(row: NewWebhookEvent): Promise<StoreOutcome> {
    return new Promise<StoreOutcome>((resolve, reject) => {
      this.waiting.push({ row, resolve, reject });
      this.flush();
    });
  }

  private flush(): void {
    while (this.waiting.length > 0 && this.inFlight < INTAKE_BATCHES_IN_FLIGHT) {
      const batch = this.waiting.length <= INTAKE_BATCH_MAX ? this.waiting : this.waiting.slice(0, INTAKE_BATCH_MAX);
      this.waiting = this.waiting.length <= INTAKE_BATCH_MAX ? [] : this.waiting.slice(INTAKE_BATCH_MAX);
      this.inFlight++;
      this.track(
        this.write(batch).finally(() => {
          this.inFlight--;
          this.flush();
        }),
      );
    }
  }

  private async write(batch: Waiting[]): Promise<void> {
    // One row per key: the first request of a key in the batch stores it, the others are duplicates.
    const firstOfKey = new Map<string, Waiting>();
    for (const waiting of batch) {
      if (!firstOfKey.has(waiting.row.eventKey)) firstOfKey.set(waiting.row.eventKey, waiting);
    }
    const rows = [...firstOfKey.values()].map((waiting) => waiting.row);
    let inserted: Map<string, string>;
    const refused = new Map<string, unknown>();
    try {
      inserted = await this.events.insertMany(rows);
    } catch (error) {
      // One row Postgres refuses (a data error) must not cost the others their answer: store them one
      // by one. Any other failure (Postgres away) would only fail again, slower: answer 503 at once.
      // (Had such an insert committed unseen, its rows are unmarked, so the relay queues them.)
      inserted = new Map();
      if (rows.length === 1 || !isDataError(error)) for (const row of rows) refused.set(row.eventKey, error);
      else {
        for (const row of rows) {
          try {
            for (const [key, id] of await this.events.insertMany([row])) inserted.set(key, id);
          } catch (rowError) {
            refused.set(row.eventKey, rowError);
          }
        }
      }
    }
    if (refused.size > 0) {
      const [first] = refused.values();
      this.logger.error(`Could not store ${refused.size} of ${rows.length} event(s): ${(first as Error).message}`);
      for (const waiting of batch) {
        if (refused.has(waiting.row.eventKey)) waiting.reject(new StorageUnavailableError(refused.get(waiting.row.eventKey)));
      }
    }

    // The duplicate path: deliveries whose key was stored already. A copy identical to the row this
    // batch just stored needs nothing more; the others may replace a stale event or be a conflict.
    const unsettled = batch.filter((waiting) => {
      const key = waiting.row.eventKey;
      if (refused.has(key)) return false;
      const first = firstOfKey.get(key)!;
      if (!inserted.has(key)) return true;
      return first !== waiting && (first.row.status !== waiting.row.status || first.row.payloadJson !== waiting.row.payloadJson);
    });
    let settled: DuplicateOutcome = { promoted: new Map(), conflicts: [] };
    let settleError: unknown = null;
    if (unsettled.length > 0) {
      try {
        // Every delivery, the same body twice included: each one counts towards its conflict's deliveries.
        settled = await this.events.settleDuplicates(unsettled.map((waiting) => waiting.row));
      } catch (error) {
        settleError = error;
        this.logger.error(`Could not settle ${unsettled.length} redelivered event(s): ${(error as Error).message}`);
      }
      for (const conflict of settled.conflicts) this.reportConflict(conflict);
    }
    // The delivery that replaced a stale event: the first fresh one of its key, as `settleDuplicates` picks.
    const promotedBy = new Map<string, Waiting>();
    for (const waiting of unsettled) {
      const key = waiting.row.eventKey;
      if (settled.promoted.has(key) && waiting.row.status !== 'stale' && !promotedBy.has(key)) promotedBy.set(key, waiting);
    }

    const toQueue: QueuedEvent[] = [];
    for (const [key, id] of inserted) {
      const row = firstOfKey.get(key)!.row;
      if (row.status === 'received') toQueue.push({ eventId: id, media: row.media as Media });
    }
    for (const [key, waiting] of promotedBy) {
      this.logger.log(`Stale event ${key} replaced by a fresh delivery`);
      if (waiting.row.status === 'received') toQueue.push({ eventId: settled.promoted.get(key)!, media: waiting.row.media as Media });
    }
    const unsettledSet = new Set(unsettled);
    for (const waiting of batch) {
      const key = waiting.row.eventKey;
      if (refused.has(key)) continue;
      // Not settled, a redelivery may have been lost (a stale event not replaced, a conflict not kept): retry.
      if (settleError !== null && unsettledSet.has(waiting)) {
        waiting.reject(new StorageUnavailableError(settleError));
        continue;
      }
      const stored = (firstOfKey.get(key) === waiting && inserted.has(key)) || promotedBy.get(key) === waiting;
      waiting.resolve({ duplicate: !stored });
    }

    if (toQueue.length > 0) this.handOverSoon(toQueue);
  }

  /** Adds committed events to the next hand-over: at once when a queue job's worth is waiting, else after `handOverDelayMs`. */
  private handOverSoon(events: readonly QueuedEvent[]): void {
    for (const event of events) this.toHandOver.push(event);
    if (this.toHandOver.length >= QUEUE_BATCH_MAX) this.handOver();
    else this.handOverTimer ??= setTimeout(() => this.handOver(), this.handOverDelayMs);
  }

  /** Hands every committed event still waiting to the queue, as one call. */
  private handOver(): void {
    clearTimeout(this.handOverTimer);
    this.handOverTimer = undefined;
    const events = this.toHandOver;
    this.toHandOver = [];
    if (events.length > 0) this.track(this.enqueue(events));
  }

  /**
   * Before the queues close (their `beforeApplicationShutdown`) and the database with them: every
   * batch under way is written and handed over, without waiting for the hand-over delay. A batch
   * finishing can start the next one (requests already waiting), which joins `underWay` before the one
   * that started it settles.
   */
  async onModuleDestroy(): Promise<void> {
    for (;;) {
      this.handOver();
      if (this.underWay.size === 0) return;
      await Promise.allSettled([...this.underWay]);
    }
  }

  private track(work: Promise<unknown>): void {
    const tracked = work
      .catch((error: unknown) => this.logger.error(`Intake work failed: ${(error as Error).message}`, (error as Error).stack))
      .finally(() => this.underWay.delete(tracked));
    this.underWay.add(tracked);
  }

  /**
   * Hands events to the queue and, once Redis confirmed it, marks them queued. What is not marked (the
   * queue refused them, or the process stopped first) the relay queues after `RELAY_GRACE_MS`.
   */
  private async enqueue(toQueue: QueuedEvent[]): Promise<void> {
    if (await this.queue.enqueue(toQueue)) await this.events.markEnqueued(toQueue.map((event) => event.eventId));
  }

  /**
   * The one place a conflicting redelivery is reported: a delivery whose body differs from the stored
   * event of its key, now kept in `webhook_event_conflicts`.
   */
  private reportConflict(conflict: EventConflict): void {
    this.metrics.recordConflict();
    this.logger.warn(
      `Redelivery of ${conflict.eventKey} differs from stored event ${conflict.eventId}; kept as a conflict` +
        (conflict.deliveries > 1 ? ` (this body ${conflict.deliveries} times)` : ''),
    );
  }
}
