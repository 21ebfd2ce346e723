import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { updateReturning } from '../database/update-returning.js';
import { RECONCILE_MAX_AGE_DAYS, type Media } from '../magic-hour/magic-hour-event.types.js';

/** A job the reconciler claimed for one check. */
export interface ClaimedJob {
  id: string;
  media: Media;
  /** Checks since the job's last news, before this one. */
  checks: number;
}

/** Why reconciliation is paused: the API refused the key (401) or the account (402). */
export interface ReconcilePause {
  httpStatus: number;
  reason: string;
  pausedAt: Date;
}

/**
 * Which unfinished jobs are due a check. A job with news since its last check (or never checked) is
 * due once it has had none for `$1` seconds, while it is younger than `RECONCILE_MAX_AGE_DAYS`; a job
 * checked since its last news is due at its `reconcile_next_at` (`NULL`: none planned).
 */
const DUE = `status IN ('queued', 'rendering') AND api_not_found_at IS NULL
  AND CASE WHEN reconcile_checked_at IS NULL OR updated_at > reconcile_checked_at
           THEN updated_at <= now() - make_interval(secs => $1)
                AND created_at > now() - make_interval(days => ${RECONCILE_MAX_AGE_DAYS})
           ELSE reconcile_next_at <= now() END`;

/**
 * The reconciler's SQL over `jobs` (its reconcile_* columns) and `reconcile_pause`. Every schedule is
 * computed by Postgres's clock, the one clock every worker shares.
 */
@Injectable()
export class ReconcileRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * Claims up to `limit` due jobs, oldest news first, for `leaseSeconds`: they are not due again until
   * then, so no other worker asks about them meanwhile (rows another worker is claiming are skipped).
   * A job with news since its last check starts counting checks from zero again.
   */
  async claimDue(afterSeconds: number, leaseSeconds: number, limit: number): Promise<ClaimedJob[]> {
    const rows = await updateReturning<{ id: string; media: Media; reconcile_checks: number }>(
      this.dataSource,
      `UPDATE jobs AS job SET
         reconcile_checks = CASE WHEN job.reconcile_checked_at IS NULL OR job.updated_at > job.reconcile_checked_at
                                 THEN 0 ELSE job.reconcile_checks END,
         reconcile_checked_at = now(),
         reconcile_next_at = now() + make_interval(secs => $2),
         reconcile_outcome = 'checking'
       FROM (SELECT id FROM jobs WHERE ${DUE} ORDER BY updated_at, id LIMIT $3 FOR UPDATE SKIP LOCKED) AS due
       WHERE job.id = due.id
       RETURNING job.id, job.media, job.reconcile_checks`,
      [afterSeconds, leaseSeconds, limit],
    );
    return rows.map((row) => ({ id: row.id, media: row.media, checks: row.reconcile_checks }));
  }

  /**
   * Records a check's outcome: `checks` since the news, and the next check `delaySeconds` from now, or
   * none (`null`), also none once the job is older than `RECONCILE_MAX_AGE_DAYS`.
   */
  async finish(id: string, outcome: string, checks: number, delaySeconds: number | null): Promise<void> {
    await this.dataSource.query(
      `UPDATE jobs SET reconcile_outcome = $2, reconcile_checks = $3,
         reconcile_next_at = CASE WHEN $4::float8 IS NULL OR created_at <= now() - make_interval(days => ${RECONCILE_MAX_AGE_DAYS})
                                  THEN NULL ELSE now() + make_interval(secs => $4::float8) END
       WHERE id = $1`,
      [id, outcome, checks, delaySeconds],
    );
  }

  /** Gives a claimed job back unchecked (`outcome` says why), due again `delaySeconds` from now. */
  async release(id: string, delaySeconds: number, outcome: string): Promise<void> {
    await this.dataSource.query(
      `UPDATE jobs SET reconcile_next_at = now() + make_interval(secs => $2::float8), reconcile_outcome = $3 WHERE id = $1`,
      [id, delaySeconds, outcome],
    );
  }

  /** Magic Hour does not know the job (404): it is marked so and asked no more. */
  async markNotFound(id: string): Promise<void> {
    await this.dataSource.query(
      `UPDATE jobs SET api_not_found_at = now(), reconcile_outcome = 'not_found', reconcile_next_at = NULL WHERE id = $1`,
      [id],
    );
  }

  /**
   * Pauses reconciliation (or keeps it paused) with the refusal's status and reason; the first
   * probe may go `probeSeconds` from now. Returns whether it was running until now.
   */
  async pause(httpStatus: number, reason: string, probeSeconds: number): Promise<boolean> {
    const [row]: Array<{ inserted: boolean }> = await this.dataSource.query(
      `INSERT INTO reconcile_pause (http_status, reason, probe_at) VALUES ($1, $2, now() + make_interval(secs => $3::float8))
       ON CONFLICT (id) DO UPDATE SET http_status = EXCLUDED.http_status, reason = EXCLUDED.reason, probe_at = EXCLUDED.probe_at
       RETURNING (xmax = 0) AS inserted`,
      [httpStatus, reason, probeSeconds],
    );
    return row?.inserted ?? false;
  }

  /** Ends a pause; returns whether there was one. */
  async resume(): Promise<boolean> {
    const rows = await updateReturning<{ id: boolean }>(this.dataSource, `DELETE FROM reconcile_pause RETURNING id`, []);
    return rows.length > 0;
  }

  /**
   * While paused, lets one worker at a time make one probing call, every `probeSeconds`; returns
   * whether this one may. Not paused: always true.
   */
  async claimProbe(probeSeconds: number): Promise<boolean> {
    const [row]: Array<{ paused: boolean; mine: boolean }> = await this.dataSource.query(
      `WITH claimed AS (
         UPDATE reconcile_pause SET probe_at = now() + make_interval(secs => $1::float8) WHERE probe_at <= now() RETURNING id
       )
       SELECT EXISTS (SELECT 1 FROM reconcile_pause) AS paused, EXISTS (SELECT 1 FROM claimed) AS mine`,
      [probeSeconds],
    );
    return !row.paused || row.mine;
  }

  /** The pause in force, or `null`. */
  async currentPause(): Promise<ReconcilePause | null> {
    const [row]: Array<{ http_status: number; reason: string; paused_at: Date }> = await this.dataSource.query(
      `SELECT http_status, reason, paused_at FROM reconcile_pause`,
    );
    return row ? { httpStatus: row.http_status, reason: row.reason, pausedAt: row.paused_at } : null;
  }

  /** Unfinished jobs whose last news is older than `seconds`. */
  async countWithoutNews(seconds: number): Promise<number> {
    const [row]: Array<{ count: number }> = await this.dataSource.query(
      `SELECT count(*)::int AS count FROM jobs
        WHERE status IN ('queued', 'rendering') AND updated_at < now() - make_interval(secs => $1::float8)`,
      [seconds],
    );
    return row?.count ?? 0;
  }
}
