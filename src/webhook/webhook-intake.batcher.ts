import { Injectable, Logger } from '@nestjs/common';
import { StorageUnavailableError } from '../common/domain.errors.js';
import type { Media } from './magic-hour-event.types.js';
import { WebhookEventQueue } from './webhook-event.queue.js';
import { WebhookEventRepository, type NewWebhookEvent } from './webhook-event.repository.js';
import { INTAKE_BATCH_MAX, INTAKE_BATCHES_IN_FLIGHT, INTAKE_IN_DOUBT_MAX, type QueuedEvent } from './webhook.constants.js';

/** Postgres's classes of errors about the data itself: 22 data exception, 23 constraint, 54 limits. */
const isDataError = (error: unknown): boolean => /^(22|23|54)/.test(String((error as { code?: unknown }).code ?? ''));

/** What became of one stored event. */
export interface StoreOutcome {
  /** Another delivery with the same key was stored first (in an earlier batch or this one). */
  duplicate: boolean;
}

interface Waiting {
  row: NewWebhookEvent;
  resolve(outcome: StoreOutcome): void;
  reject(error: unknown): void;
}

/**
 * Group commit for intake. Requests that arrive together are stored with one multi-row
 * `INSERT ... ON CONFLICT DO NOTHING` (one transaction, one WAL flush) and queued with one `addBulk`;
 * each request is answered when its batch has committed. At low load a batch is one request and
 * nothing waits; under load the batches grow by themselves while earlier ones are in flight.
 */
@Injectable()
export class WebhookIntakeBatcher {
  private readonly logger = new Logger(WebhookIntakeBatcher.name);
  private waiting: Waiting[] = [];
  private inFlight = 0;
  /**
   * Keys whose insert failed with the connection (Postgres went away mid-statement). The commit may
   * have happened all the same, and such a row carries the queued mark the insert sets, so nothing
   * would queue it for minutes. Once Postgres answers again, their mark is cleared for the relay.
   */
  private readonly inDoubt = new Set<string>();

  constructor(
    private readonly events: WebhookEventRepository,
    private readonly queue: WebhookEventQueue,
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
      void this.write(batch).finally(() => {
        this.inFlight--;
        this.flush();
      });
    }
  }

  private remainInDoubt(rows: readonly NewWebhookEvent[]): void {
    for (const row of rows) {
      if (row.status !== 'received' || this.inDoubt.size >= INTAKE_IN_DOUBT_MAX) continue;
      this.inDoubt.add(row.eventKey);
    }
  }

  /** Hands the events whose insert may have committed unseen to the relay; kept for later if it fails. */
  private async releaseInDoubt(): Promise<void> {
    const keys = [...this.inDoubt];
    this.inDoubt.clear();
    try {
      await this.events.clearEnqueuedByKey(keys);
      this.logger.log(`Left ${keys.length} event(s) whose store was in doubt to the relay`);
    } catch {
      for (const key of keys) if (this.inDoubt.size < INTAKE_IN_DOUBT_MAX) this.inDoubt.add(key);
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
      if (this.inDoubt.size > 0) void this.releaseInDoubt();
    } catch (error) {
      // One row Postgres refuses (a data error) must not cost the others their answer: store them one
      // by one. Any other failure (Postgres away) would only fail again, slower: answer 503 at once.
      inserted = new Map();
      if (!isDataError(error)) this.remainInDoubt(rows);
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

    const toQueue: QueuedEvent[] = [];
    for (const [key, id] of inserted) {
      const row = firstOfKey.get(key)!.row;
      if (row.status === 'received') toQueue.push({ eventId: id, media: row.media as Media });
    }
    if (toQueue.length > 0 && !(await this.queue.enqueue(toQueue))) {
      // Stored but not queued: clear the optimistic mark so the relay picks them up soon.
      await this.events.clearEnqueued(toQueue.map((event) => event.eventId)).catch(() => undefined);
    }
    for (const waiting of batch) {
      if (refused.has(waiting.row.eventKey)) continue;
      const stored = firstOfKey.get(waiting.row.eventKey) === waiting && inserted.has(waiting.row.eventKey);
      waiting.resolve({ duplicate: !stored });
    }
  }
}
