import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import { PreparedStatement } from '../database/prepared-statement.js';
import { updateReturning } from '../database/update-returning.js';
import type { EventSource, EventStatus, Media } from '../magic-hour/magic-hour-event.types.js';
import type { QueuedEvent } from '../queue/queue.constants.js';
import { showableJson } from './json-nesting.js';

/** The statuses intake stores an event with. */
export type IntakeStatus = Extract<EventStatus, 'received' | 'ignored' | 'quarantined'>;

/** An event as intake stores it. */
export interface NewWebhookEvent {
  eventKey: string;
  type: string;
  media: Media | 'unknown';
  projectId: string | null;
  /** `stale`: authentic but signed outside the tolerance; held, not processed, until replayed or redelivered. */
  status: IntakeStatus | 'stale';
  /** The payload (or, when quarantined, the whole body) as JSON text. */
  payloadJson: string;
  lastError: string | null;
  /** For a `stale` event only: what it becomes when released, and when it was signed. */
  stale?: { releaseStatus: IntakeStatus; signedAt: Date };
}

/** A stored event as the worker reads it to apply it, or to run its handlers. */
export interface EventRow {
  id: string;
  type: string;
  media: Media;
  project_id: string;
  payload: unknown;
  received_at: Date;
  source: EventSource;
}

/** A stored event that a delivery of the same key, with a different body, disagreed with. */
export interface EventConflict {
  eventId: string;
  eventKey: string;
  /** Deliveries of this conflicting body so far (1 the first time it is seen). */
  deliveries: number;
}

/** What became of deliveries whose key was stored already. */
export interface DuplicateOutcome {
  /** Stale events replaced by a fresh delivery: the event's id by its key. */
  promoted: Map<string, string>;
  /** Deliveries whose body differs from the stored event's, now kept as conflicts. */
  conflicts: EventConflict[];
}

/** The rows as one JSON document for `jsonb_to_recordset` (see `insertMany`). */
function toDocument(rows: readonly NewWebhookEvent[]): string {
  return `[${rows
    .map(
      (row) =>
        `{"k":${JSON.stringify(row.eventKey)},"t":${JSON.stringify(row.type)},"m":"${row.media}",` +
        `"p":${JSON.stringify(row.projectId)},"s":"${row.status}","e":${JSON.stringify(row.lastError)},` +
        (row.stale ? `"r":"${row.stale.releaseStatus}","a":${row.stale.signedAt.getTime() / 1000},` : '') +
        `"b":${row.payloadJson}}`,
    )
    .join(',')}]`;
}

/**
 * SQL keeping the conflicting bodies `source` yields (event id, body, how many deliveries brought it):
 * one row per distinct body, with its deliveries counted.
 */
const keepConflicts = (
  source: string,
): string => `INSERT INTO webhook_event_conflicts AS conflict (event_id, payload, payload_hash, deliveries)
  SELECT source.event_id, source.payload, encode(sha256(convert_to(source.payload::text, 'UTF8')), 'hex'), source.n
    FROM (${source}) AS source(event_id, payload, n)
  ON CONFLICT (event_id, payload_hash)
    DO UPDATE SET deliveries = conflict.deliveries + EXCLUDED.deliveries, last_received_at = now()
  RETURNING conflict.event_id, conflict.deliveries`;

const INCOMING = `jsonb_to_recordset($1::jsonb) AS incoming(k text, t text, m text, p text, s text, e text, r text, a float8, b jsonb)`;

/**
 * Intake's insert: the statement of every intake batch, so prepared once per connection. Events are
 * stored unmarked (`enqueued_at` NULL): only a hand-over Redis confirmed marks them (`markEnqueued`).
 * Rows go in key order, so two API processes inserting the same events wait on each other in one
 * order and cannot deadlock.
 */
const INSERT_EVENTS = new PreparedStatement<{ id: string; event_key: string }>(
  'mh_insert_events',
  `INSERT INTO webhook_events (event_key, type, media, project_id, status, payload, last_error, release_status, stale_signed_at)
   SELECT k, t, m, p, s, b, e, r, to_timestamp(a)
     FROM ${INCOMING}
    ORDER BY k
   ON CONFLICT (event_key) DO NOTHING
   RETURNING id, event_key`,
);

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
  /** A webhook delivery, or what the reconciler read from Magic Hour's API. */
  source: EventSource;
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

interface StoredEventRow {
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
  source: EventSource;
  stale_signed_at: Date | null;
  conflict_count: number;
  /** The payload's JSON text (`payload::text`), when selected. */
  payload?: string;
}

const toStoredEvent = (row: StoredEventRow): StoredEvent => ({
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
  source: row.source,
  staleSignedAt: row.stale_signed_at,
  conflictCount: row.conflict_count,
  // Read as text and parsed here, so that a body nested too deep to render is shown as its text.
  payload: row.payload === undefined ? undefined : showableJson(row.payload),
});

/** Filters for listing events. */
export interface EventFilter {
  status?: EventStatus;
  type?: string;
  jobId?: string;
}

const STORED_EVENT_COLUMNS = `id, event_key, type, media, project_id, status, attempts, last_error, received_at, processed_at, source, stale_signed_at,
  (SELECT count(*)::int FROM webhook_event_conflicts AS conflict WHERE conflict.event_id = webhook_events.id) AS conflict_count`;

/** One entry of a job's event history. */
export interface JobEventRecord {
  projectId: string;
  type: string;
  status: EventStatus;
  receivedAt: Date;
  processedAt: Date | null;
  source: EventSource;
}

/**
 * The `webhook_events` table and its conflict history (`webhook_event_conflicts`), the only place
 * their SQL lives: intake's writes, the worker's locks and marks, the relay's reads, the handler
 * runner's read, jobs' event history, and operators' reads and replay writes.
 */
@Injectable()
export class WebhookEventRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * Stores events whose key is not stored yet, in one statement; `rows` must have distinct keys. The
   * unique key decides, never a lookup first, so concurrent deliveries of one event store it once.
   * Events are not marked queued: a process that stops between this commit and its hand-over leaves
   * them unmarked, for the relay to hand over within seconds. Returns the id of each stored row by its key; a key not in
   * the map was a duplicate.
   */
  async insertMany(rows: readonly NewWebhookEvent[]): Promise<Map<string, string>> {
    // The rows travel as one JSON document (the payloads spliced in as they are): serialising it is
    // one native JSON pass, where text[] parameters would be escaped character by character in JS.
    const stored = await INSERT_EVENTS.run(this.dataSource, [toDocument(rows)]);
    return new Map(stored.map((row) => [row.event_key, row.id]));
  }

  /**
   * Settles deliveries whose key is stored already (intake's duplicate path, so the common path pays
   * nothing for it), in one transaction:
   * - a fresh delivery replaces a `stale` event of its key, which then goes on as intake would have
   *   stored it (the stale body is kept as a conflict when it differs);
   * - any delivery whose body differs from the stored event's (compared as jsonb, so key order and
   *   spacing do not count) is kept in `webhook_event_conflicts`, once per distinct body, with the
   *   number of deliveries that brought it (`rows` has one row per delivery, repeats included).
   * Of several fresh rows of one key, the first replaces a stale event; the others are compared to it.
   */
  settleDuplicates(rows: readonly NewWebhookEvent[]): Promise<DuplicateOutcome> {
    const firstFresh = new Map<string, NewWebhookEvent>();
    for (const row of rows) if (row.status !== 'stale' && !firstFresh.has(row.eventKey)) firstFresh.set(row.eventKey, row);
    const fresh = [...firstFresh.values()];
    return this.dataSource.transaction(async (manager) => {
      const promoted: Array<{ id: string; event_key: string; conflict_deliveries: number | null }> =
        fresh.length === 0
          ? []
          : await manager.query(
              `WITH promoted AS (
           UPDATE webhook_events AS event
              SET type = incoming.t, media = incoming.m, project_id = incoming.p, status = incoming.s,
                  payload = incoming.b, last_error = incoming.e, release_status = NULL, stale_signed_at = NULL,
                  received_at = now(), enqueued_at = NULL
             FROM ${INCOMING}, webhook_events AS before
            WHERE event.event_key = incoming.k AND before.id = event.id
              AND event.status = 'stale' AND incoming.s <> 'stale'
           RETURNING event.id, event.event_key, before.payload AS stale_payload, incoming.b AS fresh_payload
         ), kept AS (
           ${keepConflicts('SELECT id, stale_payload, 1 FROM promoted WHERE stale_payload <> fresh_payload')}
         )
         SELECT promoted.id, promoted.event_key, kept.deliveries AS conflict_deliveries
           FROM promoted LEFT JOIN kept ON kept.event_id = promoted.id`,
              [toDocument(fresh)],
            );
      const differing: Array<{ event_id: string; event_key: string; deliveries: number }> = await manager.query(
        `WITH differing AS (
           SELECT event.id, incoming.b, count(*)::int AS n
             FROM ${INCOMING} JOIN webhook_events AS event ON event.event_key = incoming.k
            WHERE event.payload <> incoming.b
            GROUP BY event.id, incoming.b
         ), kept AS (
           ${keepConflicts('SELECT id, b, n FROM differing')}
         )
         SELECT kept.event_id, event.event_key, kept.deliveries
           FROM kept JOIN webhook_events AS event ON event.id = kept.event_id`,
        [toDocument(rows)],
      );
      const conflicts: EventConflict[] = [
        ...promoted
          .filter((row) => row.conflict_deliveries !== null)
          .map((row) => ({ eventId: row.id, eventKey: row.event_key, deliveries: row.conflict_deliveries! })),
        ...differing.map((row) => ({ eventId: row.event_id, eventKey: row.event_key, deliveries: row.deliveries })),
      ];
      return { promoted: new Map(promoted.map((row) => [row.event_key, row.id])), conflicts };
    });
  }

  /**
   * Notes that Redis confirmed it holds these events, so that the relay leaves them alone; only those
   * still waiting (a processed event needs no mark, and no write). Rows a worker has locked are being
   * processed and skipped; the rest are locked in id order, the order the worker locks in, so the two
   * cannot deadlock.
   */
  async markEnqueued(eventIds: readonly string[]): Promise<void> {
    await this.dataSource.query(
      `UPDATE webhook_events SET enqueued_at = now()
        WHERE id IN (SELECT id FROM webhook_events WHERE id = ANY($1::uuid[]) AND status = 'received'
                      ORDER BY id FOR UPDATE SKIP LOCKED)`,
      [eventIds],
    );
  }

  /**
   * Clears the queued mark of every waiting event, so that the relay hands them all over again: for
   * when Redis lost what it held. Rows a worker has locked are being processed and skipped. Returns
   * how many were cleared.
   */
  async forgetHandOvers(): Promise<number> {
    const rows = await updateReturning<{ id: string }>(
      this.dataSource,
      `UPDATE webhook_events SET enqueued_at = NULL
        WHERE id IN (SELECT id FROM webhook_events WHERE status = 'received' AND enqueued_at IS NOT NULL
                      ORDER BY id FOR UPDATE SKIP LOCKED)
        RETURNING id`,
      [],
    );
    return rows.length;
  }

  /**
   * Events still waiting to be processed that the queue may not hold: never confirmed in Redis (older
   * than `graceMs`, so intake has had its chance), or enqueued longer ago than `requeueAfterMs`. Each half
   * is a range of `webhook_events_relay_idx`, so a pass reads only what it returns, however many
   * events are waiting (queued recently) behind it; each takes its first `limit` (never queued by
   * arrival, the others by when they were queued), and the batch is those in order of arrival.
   */
  async findUnqueued(graceMs: number, requeueAfterMs: number, limit: number): Promise<QueuedEvent[]> {
    const rows: Array<{ id: string; media: Media }> = await this.dataSource.query(
      `SELECT id, media FROM (
         (SELECT id, media, received_at FROM webhook_events
           WHERE status = 'received' AND enqueued_at IS NULL
             AND received_at < now() - make_interval(secs => $1 / 1000.0)
           ORDER BY enqueued_at, received_at, id
           LIMIT $3)
         UNION ALL
         (SELECT id, media, received_at FROM webhook_events
           WHERE status = 'received' AND enqueued_at < now() - make_interval(secs => $2 / 1000.0)
           ORDER BY enqueued_at, received_at, id
           LIMIT $3)
       ) AS due
       ORDER BY received_at, id
       LIMIT $3`,
      [graceMs, requeueAfterMs, limit],
    );
    return rows.map((row) => ({ eventId: row.id, media: row.media }));
  }

  /** Marks an applied event `failed` because a handler became a dead letter, keeping why. */
  async markHandlersDead(eventId: string, message: string): Promise<void> {
    await this.dataSource.query(`UPDATE webhook_events SET status = 'failed', last_error = $2 WHERE id = $1 AND status = 'processed'`, [
      eventId,
      message.slice(0, 10_000),
    ]);
  }

  /** Marks an event whose handlers all succeeded after a replay `processed` again. */
  async markHandlersRecovered(eventId: string): Promise<void> {
    await this.dataSource.query(
      `UPDATE webhook_events SET status = 'processed', last_error = NULL
        WHERE id = $1 AND status = 'failed' AND processed_at IS NOT NULL`,
      [eventId],
    );
  }

  /**
   * Locks, in id order, the events among `eventIds` that are still to be applied to their jobs:
   * `received`, or `failed` before they were ever applied. Processed ones, and ids not stored, are
   * left out, so applying an event twice changes nothing. Runs inside the caller's transaction.
   */
  lockUnapplied(manager: EntityManager, eventIds: readonly string[]): Promise<EventRow[]> {
    return manager.query(
      `SELECT id, type, media, project_id, payload, received_at, source FROM webhook_events
        WHERE id = ANY($1::uuid[])
          AND (status = 'received' OR (status = 'failed' AND processed_at IS NULL))
        ORDER BY id FOR UPDATE`,
      [eventIds],
    );
  }

  /** Marks events applied to their jobs `processed`, counting the attempt; inside the transaction that applied them. */
  async markProcessed(manager: EntityManager, eventIds: readonly string[]): Promise<void> {
    await manager.query(
      `UPDATE webhook_events
          SET status = 'processed', processed_at = now(), attempts = attempts + 1, last_error = NULL
        WHERE id = ANY($1::uuid[])`,
      [eventIds],
    );
  }

  /** Records a failed processing attempt; on the last one the event becomes `failed`. Returns its key and job. */
  async recordFailure(eventId: string, message: string, final: boolean): Promise<{ eventKey: string; projectId: string | null } | null> {
    const [row] = await updateReturning<{ event_key: string; project_id: string | null }>(
      this.dataSource,
      `UPDATE webhook_events
          SET attempts = attempts + 1,
              last_error = $2,
              status = CASE WHEN $3 THEN 'failed' ELSE status END
        WHERE id = $1 AND status IN ('received', 'failed')
        RETURNING event_key, project_id`,
      [eventId, message.slice(0, 10_000), final],
    );
    return row ? { eventKey: row.event_key, projectId: row.project_id } : null;
  }

  /** The event the handler runner runs handlers for. */
  async findForHandlers(eventId: string): Promise<EventRow | undefined> {
    const [event]: EventRow[] = await this.dataSource.query(
      `SELECT id, type, media, project_id, payload, received_at, source FROM webhook_events WHERE id = $1`,
      [eventId],
    );
    return event;
  }

  /** The event history of these jobs, oldest first. */
  async eventsOfJobs(jobIds: readonly string[], manager: EntityManager = this.dataSource.manager): Promise<JobEventRecord[]> {
    if (jobIds.length === 0) return [];
    const rows: Array<{
      project_id: string;
      type: string;
      status: EventStatus;
      received_at: Date;
      processed_at: Date | null;
      source: EventSource;
    }> = await manager.query(
      // A stale event was refused (401) and has not happened as far as the job goes, unless replayed.
      `SELECT project_id, type, status, received_at, processed_at, source FROM webhook_events
          WHERE project_id = ANY($1::text[]) AND status <> 'stale' ORDER BY received_at, id`,
      [jobIds],
    );
    return rows.map((row) => ({
      projectId: row.project_id,
      type: row.type,
      status: row.status,
      receivedAt: row.received_at,
      processedAt: row.processed_at,
      source: row.source,
    }));
  }

  /** An event with its payload and conflict count, as operators see it. */
  async findById(id: string): Promise<StoredEvent | null> {
    const [row]: StoredEventRow[] = await this.dataSource.query(
      `SELECT ${STORED_EVENT_COLUMNS}, payload::text AS payload FROM webhook_events WHERE id = $1`,
      [id],
    );
    return row ? toStoredEvent(row) : null;
  }

  /** Newest first (by arrival, then id), after the keyset position; `limit` + 1 rows. */
  async list(filter: EventFilter, limit: number, after?: { receivedAt: Date; id: string }): Promise<StoredEvent[]> {
    const rows: StoredEventRow[] = await this.dataSource.query(
      `SELECT ${STORED_EVENT_COLUMNS} FROM webhook_events
        WHERE ($1::text IS NULL OR status = $1) AND ($2::text IS NULL OR type = $2) AND ($3::text IS NULL OR project_id = $3)
          AND ($4::timestamptz IS NULL OR (received_at, id) < ($4::timestamptz, $5::uuid))
        ORDER BY received_at DESC, id DESC
        LIMIT $6`,
      [filter.status ?? null, filter.type ?? null, filter.jobId ?? null, after?.receivedAt ?? null, after?.id ?? null, limit + 1],
    );
    return rows.map(toStoredEvent);
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
  async markReplayEnqueued(id: string): Promise<void> {
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
    const rows: Array<{ payload: string; deliveries: number; first_received_at: Date; last_received_at: Date }> =
      await this.dataSource.query(
        `SELECT payload::text AS payload, deliveries, first_received_at, last_received_at FROM webhook_event_conflicts
          WHERE event_id = $1 ORDER BY first_received_at, id`,
        [id],
      );
    return rows.map((row) => ({
      payload: showableJson(row.payload),
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

  /**
   * Stores an event the reconciler read from Magic Hour's API (`source` `api`), under the key the
   * webhook would have had, so that whichever of the two comes second is a duplicate. Returns the
   * event's id, or `null` when the key is stored already. One exception: a `<media>.canceled` webhook
   * (which Magic Hour does not send) was kept as `ignored`, and the API's reading of the same key
   * takes its place, so that the cancellation is applied once.
   */
  async insertFromApi(event: {
    eventKey: string;
    type: string;
    media: Media;
    projectId: string;
    payloadJson: string;
  }): Promise<string | null> {
    const [row]: Array<{ id: string }> = await this.dataSource.query(
      `INSERT INTO webhook_events (event_key, type, media, project_id, status, payload, source)
       VALUES ($1, $2, $3, $4, 'received', $5::jsonb, 'api')
       ON CONFLICT (event_key) DO UPDATE
         SET status = 'received', payload = EXCLUDED.payload, source = 'api', last_error = NULL,
             received_at = now(), enqueued_at = NULL
         WHERE webhook_events.status = 'ignored'
       RETURNING id`,
      [event.eventKey, event.type, event.media, event.projectId, event.payloadJson],
    );
    return row?.id ?? null;
  }

  /** The id of the stored event with this key. */
  async idOfKey(eventKey: string): Promise<string | null> {
    const [row]: Array<{ id: string }> = await this.dataSource.query(`SELECT id FROM webhook_events WHERE event_key = $1`, [eventKey]);
    return row?.id ?? null;
  }
}
