import { Injectable } from '@nestjs/common';
import { InjectMagicHourDataSource } from '../database/magic-hour-data-source.js';
import type { DataSource, EntityManager } from 'typeorm';
import { updateReturning } from '../database/update-returning.js';

/** Where one handler stands for one event. */
export type HandlerRunStatus = 'pending' | 'running' | 'succeeded' | 'failed' | 'dead';

/** A run that may be started: pending, failed, or running under a claim that has lapsed. */
const OPEN = `(status IN ('pending', 'failed') OR (status = 'running' AND claimed_until < now()))`;

/** One handler's record for one event. */
export interface HandlerRun {
  eventId: string;
  handler: string;
  status: HandlerRunStatus;
  attempts: number;
  lastError: string | null;
  durationMs: number | null;
  updatedAt: Date;
}

interface RunRow {
  event_id: string;
  handler: string;
  status: HandlerRunStatus;
  attempts: number;
  last_error: string | null;
  duration_ms: number | null;
  updated_at: Date;
}

const toRun = (row: RunRow): HandlerRun => ({
  eventId: row.event_id,
  handler: row.handler,
  status: row.status,
  attempts: row.attempts,
  lastError: row.last_error,
  durationMs: row.duration_ms,
  updatedAt: row.updated_at,
});

/** `event_handler_runs`: one row per event and handler, unique, so a retry never runs a handler twice. */
@Injectable()
export class HandlerRunRepository {
  constructor(@InjectMagicHourDataSource() private readonly dataSource: DataSource) {}

  /** Creates pending runs, inside the transaction that applied the events; existing ones stay. */
  async createPending(manager: EntityManager, runs: ReadonlyArray<{ eventId: string; handler: string }>): Promise<void> {
    if (runs.length === 0) return;
    await manager.query(
      `INSERT INTO event_handler_runs (event_id, handler, status)
       SELECT event_id, handler, 'pending' FROM unnest($1::uuid[], $2::text[]) AS r(event_id, handler)
       ON CONFLICT (event_id, handler) DO NOTHING`,
      [runs.map((run) => run.eventId), runs.map((run) => run.handler)],
    );
  }

  async forEvents(eventIds: readonly string[]): Promise<HandlerRun[]> {
    const rows: RunRow[] = await this.dataSource.query(
      `SELECT event_id, handler, status, attempts, last_error, duration_ms, updated_at
         FROM event_handler_runs WHERE event_id = ANY($1::uuid[]) ORDER BY created_at, handler`,
      [eventIds],
    );
    return rows.map(toRun);
  }

  /**
   * Claims the event's open runs for `leaseMs`, atomically, so that two queue jobs for one event
   * (a replay during a retry, a relay hand-over) never run the same handler at once, and a handler
   * that succeeded never runs again. Returns the names of the runs this caller now holds.
   */
  async claim(eventId: string, leaseMs: number): Promise<string[]> {
    const records = await updateReturning<{ handler: string }>(
      this.dataSource,
      `UPDATE event_handler_runs
          SET status = 'running', claimed_until = now() + make_interval(secs => $2 / 1000.0), updated_at = now()
        WHERE event_id = $1 AND ${OPEN}
        RETURNING handler`,
      [eventId, leaseMs],
    );
    return records.map((row) => row.handler);
  }

  /** Records how one run ended. */
  async finish(
    eventId: string,
    handler: string,
    outcome: { status: HandlerRunStatus; error: string | null; durationMs: number },
  ): Promise<void> {
    await this.dataSource.query(
      `UPDATE event_handler_runs
          SET status = $3, attempts = attempts + 1, last_error = $4, duration_ms = $5, claimed_until = NULL,
              updated_at = now()
        WHERE event_id = $1 AND handler = $2`,
      [eventId, handler, outcome.status, outcome.error?.slice(0, 10_000) ?? null, Math.round(outcome.durationMs)],
    );
  }

  /** Turns the event's failed runs into dead letters (after the last attempt). */
  async markDead(eventId: string): Promise<void> {
    await this.dataSource.query(
      `UPDATE event_handler_runs SET status = 'dead', updated_at = now() WHERE event_id = $1 AND status = 'failed'`,
      [eventId],
    );
  }

  /**
   * Makes runs pending again for a replay: the failed and dead ones, or the one named (whatever its
   * status; created if the event never had it). Returns how many runs are now pending.
   */
  async reopen(eventId: string, handler?: string): Promise<number> {
    if (handler !== undefined) {
      const rows: unknown[] = await this.dataSource.query(
        `INSERT INTO event_handler_runs (event_id, handler, status) VALUES ($1, $2, 'pending')
         ON CONFLICT (event_id, handler) DO UPDATE SET status = 'pending', enqueued_at = NULL, updated_at = now()
           WHERE NOT (event_handler_runs.status = 'running' AND event_handler_runs.claimed_until >= now())
         RETURNING handler`,
        [eventId, handler],
      );
      return rows.length;
    }
    const records = await updateReturning<{ handler: string }>(
      this.dataSource,
      `UPDATE event_handler_runs SET status = 'pending', enqueued_at = NULL, updated_at = now()
        WHERE event_id = $1 AND status IN ('failed', 'dead') RETURNING handler`,
      [eventId],
    );
    return records.length;
  }

  /** Notes that these events' runs were handed to the queue. */
  async markEnqueued(eventIds: readonly string[]): Promise<void> {
    await this.dataSource.query(
      `UPDATE event_handler_runs SET enqueued_at = now()
        WHERE event_id = ANY($1::uuid[]) AND ${OPEN}`,
      [eventIds],
    );
  }

  /** Clears the queued mark of every open run, so that the relay queues them again: for when Redis lost what it held. */
  async forgetHandOvers(): Promise<void> {
    await this.dataSource.query(
      `UPDATE event_handler_runs SET enqueued_at = NULL
        WHERE status IN ('pending', 'running', 'failed') AND ${OPEN} AND enqueued_at IS NOT NULL`,
    );
  }

  /**
   * Events with open runs that the queue may not hold: never queued, or queued longer ago than
   * `requeueAfterMs`. Each half is a range of `event_handler_runs_relay_idx`, so a pass reads what it
   * returns, not every open run; `limit` counts runs, so an event with several open ones takes as
   * many places.
   */
  async findUnqueued(graceMs: number, requeueAfterMs: number, limit: number): Promise<string[]> {
    const rows: Array<{ event_id: string }> = await this.dataSource.query(
      `SELECT event_id FROM (
         (SELECT event_id FROM event_handler_runs
           WHERE status IN ('pending', 'running', 'failed') AND ${OPEN}
             AND enqueued_at IS NULL AND updated_at < now() - make_interval(secs => $1 / 1000.0)
           ORDER BY enqueued_at, updated_at
           LIMIT $3)
         UNION
         (SELECT event_id FROM event_handler_runs
           WHERE status IN ('pending', 'running', 'failed') AND ${OPEN}
             AND enqueued_at < now() - make_interval(secs => $2 / 1000.0)
           ORDER BY enqueued_at, updated_at
           LIMIT $3)
       ) AS due
       LIMIT $3`,
      [graceMs, requeueAfterMs, limit],
    );
    return rows.map((row) => row.event_id);
  }
}
