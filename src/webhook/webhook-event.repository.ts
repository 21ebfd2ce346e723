import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import type { EventStatus, Media } from './magic-hour-event.types.js';
import type { QueuedEvent } from './webhook.constants.js';

/** An event as intake stores it. */
export interface NewWebhookEvent {
  eventKey: string;
  type: string;
  media: Media | 'unknown';
  projectId: string | null;
  status: Extract<EventStatus, 'received' | 'ignored' | 'quarantined'>;
  /** The payload (or, when quarantined, the whole body) as JSON text. */
  payloadJson: string;
  lastError: string | null;
}

/** Inbox writes and the relay's reads, in SQL where `ON CONFLICT` and batching need it. */
@Injectable()
export class WebhookEventRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * Stores events whose key is not stored yet, in one statement; `rows` must have distinct keys. The
   * unique key decides, never a lookup first, so concurrent deliveries of one event store it once.
   * Events to be processed are marked queued at once (intake queues them right after); intake clears
   * the mark if the queue refuses them. Returns the id of each stored row by its key; a key not in
   * the map was a duplicate.
   */
  async insertMany(rows: readonly NewWebhookEvent[]): Promise<Map<string, string>> {
    // The rows travel as one JSON document (the payloads spliced in as they are): serialising it is
    // one native JSON pass, where text[] parameters would be escaped character by character in JS.
    const document = `[${rows
      .map(
        (row) =>
          `{"k":${JSON.stringify(row.eventKey)},"t":${JSON.stringify(row.type)},"m":"${row.media}",` +
          `"p":${JSON.stringify(row.projectId)},"s":"${row.status}","e":${JSON.stringify(row.lastError)},"b":${row.payloadJson}}`,
      )
      .join(',')}]`;
    const stored: Array<{ id: string; event_key: string }> = await this.dataSource.query(
      `INSERT INTO webhook_events (event_key, type, media, project_id, status, payload, last_error, enqueued_at)
       SELECT k, t, m, p, s, b, e, CASE WHEN s = 'received' THEN now() END
         FROM jsonb_to_recordset($1::jsonb) AS incoming(k text, t text, m text, p text, s text, e text, b jsonb)
       ON CONFLICT (event_key) DO NOTHING
       RETURNING id, event_key`,
      [document],
    );
    return new Map(stored.map((row) => [row.event_key, row.id]));
  }

  /**
   * Notes that these events were handed to the queue, so that the relay leaves them alone. Rows a
   * worker has locked are being processed and skipped; the rest are locked in id order, the order the
   * worker locks in, so the two cannot deadlock.
   */
  markEnqueued(eventIds: readonly string[]): Promise<void> {
    return this.setEnqueued(eventIds, 'now()');
  }

  /** Notes that these events did not reach the queue, so that the relay queues them. */
  clearEnqueued(eventIds: readonly string[]): Promise<void> {
    return this.setEnqueued(eventIds, 'NULL');
  }

  /**
   * Clears the queued mark of the events with these keys that are still waiting, so that the relay
   * queues them; for inserts whose outcome intake could not learn. Keys never stored match nothing.
   */
  async clearEnqueuedByKey(eventKeys: readonly string[]): Promise<void> {
    await this.dataSource.query(
      `UPDATE webhook_events SET enqueued_at = NULL
        WHERE id IN (SELECT id FROM webhook_events
                      WHERE event_key = ANY($1::text[]) AND status = 'received' AND enqueued_at IS NOT NULL
                      ORDER BY id FOR UPDATE SKIP LOCKED)`,
      [eventKeys],
    );
  }

  private async setEnqueued(eventIds: readonly string[], value: 'now()' | 'NULL'): Promise<void> {
    await this.dataSource.query(
      `UPDATE webhook_events SET enqueued_at = ${value}
        WHERE id IN (SELECT id FROM webhook_events WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE SKIP LOCKED)`,
      [eventIds],
    );
  }

  /**
   * Events still waiting to be processed that the queue may not hold: never enqueued (older than
   * `graceMs`, so intake has had its chance), or enqueued longer ago than `requeueAfterMs`.
   */
  async findUnqueued(graceMs: number, requeueAfterMs: number, limit: number): Promise<QueuedEvent[]> {
    const rows: Array<{ id: string; media: Media }> = await this.dataSource.query(
      `SELECT id, media FROM webhook_events
        WHERE status = 'received'
          AND ((enqueued_at IS NULL AND received_at < now() - make_interval(secs => $1 / 1000.0))
               OR enqueued_at < now() - make_interval(secs => $2 / 1000.0))
        ORDER BY received_at, id
        LIMIT $3`,
      [graceMs, requeueAfterMs, limit],
    );
    return rows.map((row) => ({ eventId: row.id, media: row.media }));
  }

  /** Every event waiting to be processed, a page at a time after `after`; for a sweep after Redis came back. */
  async findReceived(
    after: { receivedAt: Date; eventId: string } | null,
    limit: number,
  ): Promise<Array<QueuedEvent & { receivedAt: Date }>> {
    const rows: Array<{ id: string; media: Media; received_at: Date }> = await this.dataSource.query(
      `SELECT id, media, received_at FROM webhook_events
        WHERE status = 'received' AND ($1::timestamptz IS NULL OR (received_at, id) > ($1::timestamptz, $2::uuid))
        ORDER BY received_at, id
        LIMIT $3`,
      [after?.receivedAt ?? null, after?.eventId ?? null, limit],
    );
    return rows.map((row) => ({ eventId: row.id, media: row.media, receivedAt: row.received_at }));
  }

  /** Marks an applied event `failed` because a handler became a dead letter, keeping why. */
  async markHandlersDead(eventId: string, message: string): Promise<void> {
    await this.dataSource.query(
      `UPDATE webhook_events SET status = 'failed', last_error = $2 WHERE id = $1 AND status = 'processed'`,
      [eventId, message.slice(0, 10_000)],
    );
  }

  /** Marks an event whose handlers all succeeded after a replay `processed` again. */
  async markHandlersRecovered(eventId: string): Promise<void> {
    await this.dataSource.query(
      `UPDATE webhook_events SET status = 'processed', last_error = NULL
        WHERE id = $1 AND status = 'failed' AND processed_at IS NOT NULL`,
      [eventId],
    );
  }

  /** Records a failed processing attempt; on the last one the event becomes `failed`. */
  async recordFailure(eventId: string, message: string, final: boolean): Promise<void> {
    await this.dataSource.query(
      `UPDATE webhook_events
          SET attempts = attempts + 1,
              last_error = $2,
              status = CASE WHEN $3 THEN 'failed' ELSE status END
        WHERE id = $1 AND status IN ('received', 'failed')`,
      [eventId, message.slice(0, 10_000), final],
    );
  }
}
