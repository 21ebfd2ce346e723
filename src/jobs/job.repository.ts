import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import type { JobStatus, Media } from '../magic-hour/magic-hour-event.types.js';
import { JobEntity } from '../database/entities/job.entity.js';
import { updateReturning } from '../database/update-returning.js';
import type { JobState } from './job-transition.js';

/** Filters and keyset position for listing jobs, newest first. */
export interface JobListQuery {
  status?: JobStatus;
  media?: Media;
  limit: number;
  after?: { createdAt: Date; id: string };
}

/** A job as its first event creates it, before any event is applied to it. */
export interface NewJob {
  id: string;
  media: Media;
  /** The job's provisional `created_at`, until a payload says when Magic Hour created it. */
  createdAt: Date;
}

interface JobRow {
  id: string;
  media: Media;
  project_type: string | null;
  name: string | null;
  status: JobStatus;
  downloads: JobState['downloads'];
  error: JobState['error'];
  credits_charged: number | null;
  details: JobState['details'];
  created_at: Date;
  started_at: Date | null;
  completed_at: Date | null;
  errored_at: Date | null;
  inserted: boolean;
}

const toState = (row: JobRow): JobState => ({
  id: row.id,
  media: row.media,
  projectType: row.project_type,
  name: row.name,
  status: row.status,
  downloads: row.downloads,
  error: row.error,
  creditsCharged: row.credits_charged,
  details: row.details,
  createdAt: row.created_at,
  startedAt: row.started_at,
  completedAt: row.completed_at,
  erroredAt: row.errored_at,
});

/** The `jobs` table: creating, locking and writing jobs for the worker, and reading them with their event history. */
@Injectable()
export class JobRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * Creates the jobs not stored yet (status `rendering`, to be overwritten by the caller) and locks
   * every one of them, in id order so that concurrent transactions cannot deadlock. Runs inside the
   * caller's transaction. Returns each job's state by id: `null` for a job created now, which its
   * first event then describes in full.
   */
  async createOrLock(manager: EntityManager, jobs: readonly NewJob[]): Promise<Map<string, JobState | null>> {
    const sorted = [...jobs].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const rows: JobRow[] = await manager.query(
      `INSERT INTO jobs (id, media, status, created_at, updated_at)
       SELECT id, media, 'rendering', created_at, created_at
         FROM unnest($1::text[], $2::text[], $3::timestamptz[]) AS incoming(id, media, created_at)
       ON CONFLICT (id) DO UPDATE SET id = EXCLUDED.id
       RETURNING *, (xmax = 0) AS inserted`,
      [sorted.map((job) => job.id), sorted.map((job) => job.media), sorted.map((job) => job.createdAt)],
    );
    return new Map(rows.map((row) => [row.id, row.inserted ? null : toState(row)]));
  }

  /** Writes jobs' states (rows locked by `createOrLock` in the same transaction), in one statement. */
  async saveStates(manager: EntityManager, jobs: readonly JobState[]): Promise<void> {
    await manager.query(
      `UPDATE jobs AS job SET
         project_type = u.project_type, name = u.name, status = u.status, downloads = u.downloads::jsonb,
         error = u.error::jsonb, credits_charged = u.credits_charged, details = u.details::jsonb,
         created_at = u.created_at, started_at = u.started_at, completed_at = u.completed_at,
         errored_at = u.errored_at, updated_at = now()
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::int[],
                   $8::text[], $9::timestamptz[], $10::timestamptz[], $11::timestamptz[], $12::timestamptz[])
         AS u(id, project_type, name, status, downloads, error, credits_charged, details,
              created_at, started_at, completed_at, errored_at)
       WHERE job.id = u.id`,
      [
        jobs.map((job) => job.id),
        jobs.map((job) => job.projectType),
        jobs.map((job) => job.name),
        jobs.map((job) => job.status),
        jobs.map((job) => JSON.stringify(job.downloads)),
        jobs.map((job) => (job.error === null ? null : JSON.stringify(job.error))),
        jobs.map((job) => job.creditsCharged),
        jobs.map((job) => JSON.stringify(job.details)),
        jobs.map((job) => job.createdAt),
        jobs.map((job) => job.startedAt),
        jobs.map((job) => job.completedAt),
        jobs.map((job) => job.erroredAt),
      ],
    );
  }

  /**
   * Registers a project before any news, as `queued`; a job stored already is left as it is. Returns
   * the job's media and whether it was created now.
   */
  async register(id: string, media: Media): Promise<{ created: boolean; media: Media }> {
    const [row]: Array<{ media: Media; created: boolean }> = await this.dataSource.query(
      `WITH created AS (
         INSERT INTO jobs (id, media, status, created_at, updated_at) VALUES ($1, $2, 'queued', now(), now())
         ON CONFLICT (id) DO NOTHING RETURNING media
       )
       SELECT media, true AS created FROM created
       UNION ALL
       SELECT media, false AS created FROM jobs WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM created)`,
      [id, media],
    );
    return row;
  }

  /**
   * Makes an unfinished job due a check with Magic Hour's API now (even one the API said it does not
   * know, or too old for scheduled checks). Returns the job's status, or `null` when there is no job.
   */
  async requestCheck(id: string): Promise<JobStatus | null> {
    const [row]: Array<{ status: JobStatus }> = await this.dataSource.query(
      `WITH due AS (
         UPDATE jobs SET reconcile_checked_at = now(), reconcile_next_at = now(), api_not_found_at = NULL
          WHERE id = $1 AND status IN ('queued', 'rendering') RETURNING status
       )
       SELECT status FROM due UNION ALL SELECT status FROM jobs WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM due)`,
      [id],
    );
    return row?.status ?? null;
  }

  /**
   * Makes every unfinished job that is checked on a schedule (younger than `maxAgeDays`, not marked
   * unknown to the API) due a check now; returns how many.
   */
  async requestCheckOfAll(maxAgeDays: number): Promise<number> {
    const rows = await updateReturning<{ id: string }>(
      this.dataSource,
      `UPDATE jobs SET reconcile_checked_at = now(), reconcile_next_at = now()
        WHERE status IN ('queued', 'rendering') AND api_not_found_at IS NULL
          AND created_at > now() - make_interval(days => $1)
        RETURNING id`,
      [maxAgeDays],
    );
    return rows.length;
  }

  /** Replaces a job's downloads with fresh ones (from Magic Hour's API); returns whether the job exists. */
  async storeDownloads(id: string, downloads: readonly JobState['downloads'][number][]): Promise<boolean> {
    const rows = await updateReturning<{ id: string }>(
      this.dataSource,
      `UPDATE jobs SET downloads = $2::jsonb, updated_at = now() WHERE id = $1 RETURNING id`,
      [id, JSON.stringify(downloads)],
    );
    return rows.length > 0;
  }

  /** One job, or `null`. */
  findById(id: string): Promise<JobEntity | null> {
    return this.dataSource.getRepository(JobEntity).findOneBy({ id });
  }

  /** Jobs newest first (by `created_at`, then id), after the keyset position; `limit` + 1 rows, to tell if more follow. */
  list(query: JobListQuery, manager: EntityManager = this.dataSource.manager): Promise<JobEntity[]> {
    const builder = manager
      .getRepository(JobEntity)
      .createQueryBuilder('job')
      .orderBy('job.created_at', 'DESC')
      .addOrderBy('job.id', 'DESC')
      .limit(query.limit + 1);
    if (query.status) builder.andWhere('job.status = :status', { status: query.status });
    if (query.media) builder.andWhere('job.media = :media', { media: query.media });
    if (query.after) {
      builder.andWhere('(job.created_at, job.id) < (:afterCreatedAt, :afterId)', {
        afterCreatedAt: query.after.createdAt,
        afterId: query.after.id,
      });
    }
    return builder.getMany();
  }
}
