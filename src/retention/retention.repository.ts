import { Injectable } from '@nestjs/common';
import type { DataSource, QueryRunner } from 'typeorm';
import { InjectMagicHourDataSource } from '../database/magic-hour-data-source.js';
import { lockStoredFilePaths } from '../jobs/stored-file.repository.js';
import type { EventStatus } from '../magic-hour/magic-hour-event.types.js';
import { RETENTION_LOCK_ID } from './retention.constants.js';

/** What one batch of event deletes removed, per table. */
export interface DeletedEvents {
  events: number;
  handlerRuns: number;
  conflicts: number;
}

/** A stored file past its retention. */
export interface ExpiredFile {
  id: string;
  path: string;
}

/** The retention lock, held on a connection of its own for one pass. */
export interface RetentionLock {
  release(): Promise<void>;
}

/**
 * The statements retention runs: each deletes at most `limit` rows, oldest first, and skips rows
 * another transaction holds (`SKIP LOCKED`), so a worker applying an event is never waited for.
 * Ages are measured on Postgres's clock, the one that stamped `received_at`.
 */
@Injectable()
export class RetentionRepository {
  constructor(@InjectMagicHourDataSource() private readonly dataSource: DataSource) {}

  /**
   * Takes the retention lock if no other process holds it: a session-level advisory lock, so that a
   * worker that dies loses it with its connection. `null` when another process holds it.
   */
  async tryLock(): Promise<RetentionLock | null> {
    const runner: QueryRunner = this.dataSource.createQueryRunner();
    await runner.connect();
    try {
      const rows = (await runner.query('SELECT pg_try_advisory_lock($1) AS locked', [RETENTION_LOCK_ID])) as Array<{ locked: boolean }>;
      const [{ locked }] = rows;
      if (!locked) {
        await runner.release();
        return null;
      }
    } catch (error) {
      await runner.release();
      throw error;
    }
    return {
      async release() {
        try {
          await runner.query('SELECT pg_advisory_unlock($1)', [RETENTION_LOCK_ID]);
        } finally {
          await runner.release();
        }
      },
    };
  }

  /**
   * Deletes up to `limit` events of `status` that arrived (and, if processed, were last processed) over
   * `days` days ago, with their handler runs and conflicting redeliveries. An event whose handlers are
   * still to run (a run pending, running or failed but retrying) is kept until they finish.
   */
  async deleteEvents(status: EventStatus, days: number, limit: number): Promise<DeletedEvents> {
    const [row] = await this.dataSource.query<DeletedEvents[]>(
      `WITH doomed AS (
         SELECT e.id FROM webhook_events e
          WHERE e.status = $1
            AND e.received_at < now() - make_interval(days => $2)
            AND (e.processed_at IS NULL OR e.processed_at < now() - make_interval(days => $2))
            AND NOT EXISTS (SELECT 1 FROM event_handler_runs r
                             WHERE r.event_id = e.id AND r.status IN ('pending', 'running', 'failed'))
          ORDER BY e.received_at
          LIMIT $3
          FOR UPDATE SKIP LOCKED
       ), runs AS (
         DELETE FROM event_handler_runs WHERE event_id IN (SELECT id FROM doomed) RETURNING 1
       ), conflicts AS (
         DELETE FROM webhook_event_conflicts WHERE event_id IN (SELECT id FROM doomed) RETURNING 1
       ), events AS (
         DELETE FROM webhook_events WHERE id IN (SELECT id FROM doomed) RETURNING 1
       )
       SELECT (SELECT count(*) FROM events)::int AS events,
              (SELECT count(*) FROM runs)::int AS "handlerRuns",
              (SELECT count(*) FROM conflicts)::int AS conflicts`,
      [status, days, limit],
    );
    return row;
  }

  /** Deletes up to `limit` jobs of `status` created and last changed over `days` days ago; how many. */
  async deleteJobs(status: string, days: number, limit: number): Promise<number> {
    const [row] = await this.dataSource.query<Array<{ n: number }>>(
      `WITH doomed AS (
         SELECT id FROM jobs
          WHERE status = $1
            AND created_at < now() - make_interval(days => $2)
            AND updated_at < now() - make_interval(days => $2)
          ORDER BY created_at
          LIMIT $3
          FOR UPDATE SKIP LOCKED
       ), deleted AS (DELETE FROM jobs WHERE id IN (SELECT id FROM doomed) RETURNING 1)
       SELECT count(*)::int AS n FROM deleted`,
      [status, days, limit],
    );
    return row.n;
  }

  /** Up to `limit` stored files recorded over `days` days ago, oldest first. */
  async expiredFiles(days: number, limit: number): Promise<ExpiredFile[]> {
    return await this.dataSource.query<ExpiredFile[]>(
      `SELECT id, path FROM stored_files WHERE stored_at < now() - make_interval(days => $1) ORDER BY stored_at LIMIT $2`,
      [days, limit],
    );
  }

  /**
   * Forgets these stored files, unless one was stored again since (then its row is newer), and runs
   * `remove` on the paths of the rows it deleted that no other row names, before committing, holding
   * their paths' locks (the download handler takes the same while it puts a file in place and records
   * it). How many it forgot. When `remove` throws, nothing is forgotten.
   */
  async deleteFiles(files: readonly ExpiredFile[], days: number, remove: (paths: string[]) => Promise<void>): Promise<number> {
    return await this.dataSource.transaction(async (manager) => {
      await lockStoredFilePaths(
        manager,
        files.map((file) => file.path),
      );
      // The statement sees the table as it was before its own delete, hence the test on the ids.
      const deleted = await manager.query<Array<{ path: string; named: boolean }>>(
        `WITH deleted AS (
           DELETE FROM stored_files WHERE id = ANY($1::uuid[]) AND stored_at < now() - make_interval(days => $2) RETURNING id, path
         )
         SELECT path, EXISTS (SELECT 1 FROM stored_files AS other
                               WHERE other.path = deleted.path AND other.id NOT IN (SELECT id FROM deleted)) AS named
           FROM deleted`,
        [files.map((file) => file.id), days],
      );
      await remove([...new Set(deleted.filter((row) => !row.named).map((row) => row.path))]);
      return deleted.length;
    });
  }

  /**
   * When the oldest event of each status arrived (`null` for a status with none). One index lookup per
   * status (`webhook_events_status_idx`), so it is cheap at any table size.
   */
  async oldestEvents(statuses: readonly EventStatus[]): Promise<Array<{ status: EventStatus; oldest: Date | null }>> {
    return await this.dataSource.query<Array<{ status: EventStatus; oldest: Date | null }>>(
      `SELECT s.status, (SELECT min(received_at) FROM webhook_events WHERE status = s.status) AS oldest
         FROM unnest($1::text[]) AS s(status)`,
      [statuses],
    );
  }
}
