import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { updateReturning } from '../database/update-returning.js';
import type { EventStatus, Media } from '../magic-hour/magic-hour-event.types.js';

/** A stored event as operators see it. */
export interface StoredEvent {
  id: string;
  eventKey: string;
  type: string;
  media: Media | 'unknown';
  jobId: string | null;
  status: EventStatus;
  attempts: number;
  lastError: string | null;
  receivedAt: Date;
  processedAt: Date | null;
  /** For an event recorded from a delivery outside the tolerance: when it was signed. */
  staleSignedAt: Date | null;
  /** Stored bodies that disagreed with this event under its key. */
  conflictCount: number;
  payload: unknown;
}

/** A redelivered body that differed from the stored event of its key. */
export interface EventConflictRecord {
  payload: unknown;
  deliveries: number;
  firstReceivedAt: Date;
  lastReceivedAt: Date;
}

interface Row {
  id: string;
  event_key: string;
  type: string;
  media: Media | 'unknown';
  project_id: string | null;
  status: EventStatus;
  attempts: number;
  last_error: string | null;
  received_at: Date;
  processed_at: Date | null;
  stale_signed_at: Date | null;
  conflict_count: number;
  payload?: unknown;
}

const toEvent = (row: Row): StoredEvent => ({
  id: row.id,
  eventKey: row.event_key,
  type: row.type,
  media: row.media,
  jobId: row.project_id,
  status: row.status,
  attempts: row.attempts,
  lastError: row.last_error,
  receivedAt: row.received_at,
  processedAt: row.processed_at,
  staleSignedAt: row.stale_signed_at,
  conflictCount: row.conflict_count,
  payload: row.payload,
});

/** Filters for listing events. */
export interface EventFilter {
  status?: EventStatus;
  type?: string;
  jobId?: string;
}

const COLUMNS = `id, event_key, type, media, project_id, status, attempts, last_error, received_at, processed_at, stale_signed_at,
  (SELECT count(*)::int FROM webhook_event_conflicts AS conflict WHERE conflict.event_id = webhook_events.id) AS conflict_count`;

/** Operator reads and replay writes on `webhook_events`. */
@Injectable()
export class EventRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async findById(id: string): Promise<StoredEvent | null> {
    const [row]: Row[] = await this.dataSource.query(`SELECT ${COLUMNS}, payload FROM webhook_events WHERE id = $1`, [id]);
    return row ? toEvent(row) : null;
  }

  /** Newest first (by arrival, then id), after the keyset position; `limit` + 1 rows. */
  async list(filter: EventFilter, limit: number, after?: { receivedAt: Date; id: string }): Promise<StoredEvent[]> {
    const rows: Row[] = await this.dataSource.query(
      `SELECT ${COLUMNS} FROM webhook_events
        WHERE ($1::text IS NULL OR status = $1) AND ($2::text IS NULL OR type = $2) AND ($3::text IS NULL OR project_id = $3)
          AND ($4::timestamptz IS NULL OR (received_at, id) < ($4::timestamptz, $5::uuid))
        ORDER BY received_at DESC, id DESC
        LIMIT $6`,
      [filter.status ?? null, filter.type ?? null, filter.jobId ?? null, after?.receivedAt ?? null, after?.id ?? null, limit + 1],
    );
    return rows.map(toEvent);
  }

  /** Ids of the events matching `filter`, oldest first, at most `limit`. */
  async idsMatching(filter: EventFilter, limit: number): Promise<string[]> {
    const rows: Array<{ id: string }> = await this.dataSource.query(
      `SELECT id FROM webhook_events
        WHERE ($1::text IS NULL OR status = $1) AND ($2::text IS NULL OR type = $2) AND ($3::text IS NULL OR project_id = $3)
        ORDER BY received_at, id LIMIT $4`,
      [filter.status ?? null, filter.type ?? null, filter.jobId ?? null, limit],
    );
    return rows.map((row) => row.id);
  }

  /** Records that a replayed event is in the queue, so that the relay does not queue it again. */
  async markEnqueued(id: string): Promise<void> {
    await this.dataSource.query(`UPDATE webhook_events SET enqueued_at = now() WHERE id = $1 AND enqueued_at IS NULL`, [id]);
  }

  /** Moves an event to `to` if it still is `from`; returns whether it did. */
  async moveStatus(id: string, from: EventStatus, to: EventStatus): Promise<boolean> {
    const records = await updateReturning<{ id: string }>(
      this.dataSource,
      `UPDATE webhook_events SET status = $3, enqueued_at = NULL WHERE id = $1 AND status = $2 RETURNING id`,
      [id, from, to],
    );
    return records.length > 0;
  }

  /**
   * Turns a quarantined event into the event it now validates as. Returns `false` when another stored
   * event already has its key (23505 from the unique constraint).
   */
  async release(
    id: string,
    event: { eventKey: string; type: string; media: Media | 'unknown'; projectId: string; payloadJson: string; status: EventStatus },
  ): Promise<boolean> {
    try {
      await this.dataSource.query(
        `UPDATE webhook_events
            SET event_key = $2, type = $3, media = $4, project_id = $5, payload = $6::jsonb, status = $7,
                last_error = NULL, enqueued_at = NULL
          WHERE id = $1 AND status = 'quarantined'`,
        [id, event.eventKey, event.type, event.media, event.projectId, event.payloadJson, event.status],
      );
      return true;
    } catch (error) {
      if ((error as { code?: string }).code === '23505') return false;
      throw error;
    }
  }

  /** Records why a quarantined event still does not validate. */
  async setLastError(id: string, message: string): Promise<void> {
    await this.dataSource.query(`UPDATE webhook_events SET last_error = $2 WHERE id = $1`, [id, message.slice(0, 10_000)]);
  }

  /** The bodies that disagreed with this event under its key, oldest first. */
  async conflictsOf(id: string): Promise<EventConflictRecord[]> {
    const rows: Array<{ payload: unknown; deliveries: number; first_received_at: Date; last_received_at: Date }> =
      await this.dataSource.query(
        `SELECT payload, deliveries, first_received_at, last_received_at FROM webhook_event_conflicts
          WHERE event_id = $1 ORDER BY first_received_at, id`,
        [id],
      );
    return rows.map((row) => ({
      payload: row.payload,
      deliveries: row.deliveries,
      firstReceivedAt: row.first_received_at,
      lastReceivedAt: row.last_received_at,
    }));
  }

  /**
   * Releases a stale event into the status intake would have given it; returns that status, or
   * `null` when the event is no longer stale (a fresh delivery or another replay got there first).
   */
  async releaseStale(id: string): Promise<EventStatus | null> {
    const [row] = await updateReturning<{ status: EventStatus }>(
      this.dataSource,
      `UPDATE webhook_events SET status = release_status, release_status = NULL, enqueued_at = NULL
        WHERE id = $1 AND status = 'stale' RETURNING status`,
      [id],
    );
    return row?.status ?? null;
  }

  async idOfKey(eventKey: string): Promise<string | null> {
    const [row]: Array<{ id: string }> = await this.dataSource.query(`SELECT id FROM webhook_events WHERE event_key = $1`, [eventKey]);
    return row?.id ?? null;
  }
}
