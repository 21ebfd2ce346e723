import { asError } from '../common/domain.errors.js';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import {
  actionOf,
  isKnownEventType,
  type EventStatus,
  type JobStatus,
  type MagicHourEventType,
  type Media,
} from '../webhook/magic-hour-event.types.js';
import { JobEntity } from './job.entity.js';
import { applyEvent, type JobSnapshot, type JobState } from './job-transition.js';

/** What became of applying a batch of events. */
export interface ApplyResult {
  /** Events applied now. */
  applied: number;
  /** Events already processed (or not stored): nothing to do. */
  skipped: number;
  /** Events that could not be applied, with why; the rest of the batch was applied without them. */
  failed: Array<{ eventId: string; error: Error }>;
}

/** An event that a transaction applied to its job. */
export interface AppliedEvent {
  id: string;
  type: string;
  media: Media;
  projectId: string;
  receivedAt: Date;
}

/**
 * Runs inside the transaction that applied events, with the events it applied, so that what must
 * follow an applied event (its handler runs) is committed with it or not at all.
 */
export type AfterApply = (manager: EntityManager, applied: readonly AppliedEvent[]) => Promise<void>;

/** One entry of a job's event history. */
export interface JobEventRecord {
  projectId: string;
  type: string;
  status: EventStatus;
  receivedAt: Date;
  processedAt: Date | null;
}

/** Filters and keyset position for listing jobs, newest first. */
export interface JobListQuery {
  status?: JobStatus;
  media?: Media;
  limit: number;
  after?: { createdAt: Date; id: string };
}

/** A stored event as the worker reads it to apply it, or to run its handlers. */
export interface EventRow {
  id: string;
  type: string;
  media: Media;
  project_id: string;
  payload: unknown;
  received_at: Date;
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

/** The `jobs` table: applying events to it, and reading it with its event history. */
@Injectable()
export class JobRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * Applies stored events to their jobs and marks them processed, all in one transaction. Should that
   * fail, each event is tried in a transaction of its own, so one bad event cannot hold back the rest.
   * Events already processed, or not stored, are skipped: applying an event twice changes nothing.
   *
   * @param toSnapshot reads an event's payload into what it says about its job (per media)
   */
  async applyEvents(
    eventIds: readonly string[],
    toSnapshot: (payload: unknown) => JobSnapshot,
    afterApply?: AfterApply,
  ): Promise<ApplyResult> {
    try {
      const applied = await this.applyInTransaction(eventIds, toSnapshot, afterApply);
      return { applied, skipped: eventIds.length - applied, failed: [] };
    } catch (error) {
      if (eventIds.length === 1) return { applied: 0, skipped: 0, failed: [{ eventId: eventIds[0], error: asError(error) }] };
    }
    const result: ApplyResult = { applied: 0, skipped: 0, failed: [] };
    for (const eventId of eventIds) {
      try {
        const applied = await this.applyInTransaction([eventId], toSnapshot, afterApply);
        result.applied += applied;
        result.skipped += 1 - applied;
      } catch (error) {
        result.failed.push({ eventId, error: asError(error) });
      }
    }
    return result;
  }

  /**
   * One transaction: lock the events still to process (in id order), create or lock their jobs (in id
   * order, so concurrent batches cannot deadlock), apply each job's events in arrival order, write the
   * jobs and mark the events processed. Returns how many events it applied.
   */
  private applyInTransaction(
    eventIds: readonly string[],
    toSnapshot: (payload: unknown) => JobSnapshot,
    afterApply?: AfterApply,
  ): Promise<number> {
    return this.dataSource.transaction(async (manager) => {
      const events: EventRow[] = await manager.query(
        `SELECT id, type, media, project_id, payload, received_at FROM webhook_events
          WHERE id = ANY($1::uuid[])
            AND (status = 'received' OR (status = 'failed' AND processed_at IS NULL))
          ORDER BY id FOR UPDATE`,
        [eventIds],
      );
      if (events.length === 0) return 0;
      for (const event of events) {
        if (!isKnownEventType(event.type)) {
          throw new Error(`Event ${event.id} has type ${event.type}, which cannot be applied to a job`);
        }
      }
      events.sort((a, b) => a.received_at.getTime() - b.received_at.getTime() || a.id.localeCompare(b.id));

      // A new job starts from its first event; an existing one is locked as it is.
      const firstEventOf = new Map<string, EventRow>();
      for (const event of events) if (!firstEventOf.has(event.project_id)) firstEventOf.set(event.project_id, event);
      const jobIds = [...firstEventOf.keys()].sort();
      const rows: JobRow[] = await manager.query(
        `INSERT INTO jobs (id, media, status, created_at, updated_at)
         SELECT id, media, 'rendering', created_at, created_at
           FROM unnest($1::text[], $2::text[], $3::timestamptz[]) AS incoming(id, media, created_at)
         ON CONFLICT (id) DO UPDATE SET id = EXCLUDED.id
         RETURNING *, (xmax = 0) AS inserted`,
        [jobIds, jobIds.map((id) => firstEventOf.get(id)!.media), jobIds.map((id) => firstEventOf.get(id)!.received_at)],
      );
      const jobs = new Map<string, JobState | null>(rows.map((row) => [row.id, row.inserted ? null : toState(row)]));

      for (const event of events) {
        const next = applyEvent(
          jobs.get(event.project_id) ?? null,
          { projectId: event.project_id, media: event.media, action: actionOf(event.type as MagicHourEventType), receivedAt: event.received_at },
          toSnapshot(event.payload),
        );
        jobs.set(event.project_id, next);
      }

      const updated = [...jobs.values()].filter((job): job is JobState => job !== null);
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
          updated.map((job) => job.id),
          updated.map((job) => job.projectType),
          updated.map((job) => job.name),
          updated.map((job) => job.status),
          updated.map((job) => JSON.stringify(job.downloads)),
          updated.map((job) => (job.error === null ? null : JSON.stringify(job.error))),
          updated.map((job) => job.creditsCharged),
          updated.map((job) => JSON.stringify(job.details)),
          updated.map((job) => job.createdAt),
          updated.map((job) => job.startedAt),
          updated.map((job) => job.completedAt),
          updated.map((job) => job.erroredAt),
        ],
      );
      await manager.query(
        `UPDATE webhook_events
            SET status = 'processed', processed_at = now(), attempts = attempts + 1, last_error = NULL
          WHERE id = ANY($1::uuid[])`,
        [events.map((event) => event.id)],
      );
      if (afterApply) {
        await afterApply(
          manager,
          events.map((event) => ({
            id: event.id,
            type: event.type,
            media: event.media,
            projectId: event.project_id,
            receivedAt: event.received_at,
          })),
        );
      }
      return events.length;
    });
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

  /** The event history of these jobs, oldest first. */
  async eventsOf(jobIds: readonly string[], manager: EntityManager = this.dataSource.manager): Promise<JobEventRecord[]> {
    if (jobIds.length === 0) return [];
    const rows: Array<{ project_id: string; type: string; status: EventStatus; received_at: Date; processed_at: Date | null }> =
      await manager.query(
        // A stale event was refused (401) and has not happened as far as the job goes, unless replayed.
        `SELECT project_id, type, status, received_at, processed_at FROM webhook_events
          WHERE project_id = ANY($1::text[]) AND status <> 'stale' ORDER BY received_at, id`,
        [jobIds],
      );
    return rows.map((row) => ({
      projectId: row.project_id,
      type: row.type,
      status: row.status,
      receivedAt: row.received_at,
      processedAt: row.processed_at,
    }));
  }
}
