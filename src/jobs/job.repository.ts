import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { EventNotFoundError } from '../common/domain.errors.js';
import { actionOf, isKnownEventType, type EventStatus, type JobStatus, type Media } from '../webhook/magic-hour-event.types.js';
import { JobEntity } from './job.entity.js';
import { applyEvent, type JobSnapshot, type JobState } from './job-transition.js';

/** What became of an attempt to apply an event. */
export type ApplyOutcome = 'applied' | 'already-processed';

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

interface EventRow {
  id: string;
  type: string;
  media: Media;
  project_id: string;
  status: EventStatus;
  payload: unknown;
  received_at: Date;
}

/** The `jobs` table: applying events to it, and reading it with its event history. */
@Injectable()
export class JobRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * Applies a stored event to its job and marks the event processed, in one transaction. The event row
   * is locked first, so concurrent or repeated attempts apply it once; the job row is created (or
   * locked) before it is read, so two events of one job never overwrite each other.
   *
   * @param toSnapshot reads the event's payload into what it says about the job (per media)
   * @throws EventNotFoundError when the event is not stored
   */
  async applyEvent(eventId: string, toSnapshot: (payload: unknown) => JobSnapshot): Promise<ApplyOutcome> {
    return this.dataSource.transaction(async (manager) => {
      const [event]: EventRow[] = await manager.query(
        `SELECT id, type, media, project_id, status, payload, received_at
           FROM webhook_events WHERE id = $1 FOR UPDATE`,
        [eventId],
      );
      if (!event) throw new EventNotFoundError(eventId);
      if (event.status !== 'received' && event.status !== 'failed') return 'already-processed';
      if (!isKnownEventType(event.type)) {
        throw new Error(`Event ${eventId} has type ${event.type}, which cannot be applied to a job`);
      }

      const created: Array<{ id: string }> = await manager.query(
        `INSERT INTO jobs (id, media, status, created_at, updated_at) VALUES ($1, $2, 'rendering', $3, $3)
         ON CONFLICT (id) DO NOTHING RETURNING id`,
        [event.project_id, event.media, event.received_at],
      );
      const current =
        created.length > 0
          ? null
          : await manager.findOne(JobEntity, { where: { id: event.project_id }, lock: { mode: 'pessimistic_write' } });

      const next: JobState = applyEvent(
        current,
        { projectId: event.project_id, media: event.media, action: actionOf(event.type), receivedAt: event.received_at },
        toSnapshot(event.payload),
      );
      await manager.update(JobEntity, { id: next.id }, { ...next, updatedAt: new Date() });
      await manager.query(
        `UPDATE webhook_events
            SET status = 'processed', processed_at = now(), attempts = attempts + 1, last_error = NULL
          WHERE id = $1`,
        [eventId],
      );
      return 'applied';
    });
  }

  /** One job, or `null`. */
  findById(id: string): Promise<JobEntity | null> {
    return this.dataSource.getRepository(JobEntity).findOneBy({ id });
  }

  /** Jobs newest first (by `created_at`, then id), after the keyset position; `limit` + 1 rows, to tell if more follow. */
  list(query: JobListQuery): Promise<JobEntity[]> {
    const builder = this.dataSource
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
  async eventsOf(jobIds: readonly string[]): Promise<JobEventRecord[]> {
    if (jobIds.length === 0) return [];
    const rows: Array<{ project_id: string; type: string; status: EventStatus; received_at: Date; processed_at: Date | null }> =
      await this.dataSource.query(
        `SELECT project_id, type, status, received_at, processed_at FROM webhook_events
          WHERE project_id = ANY($1::text[]) ORDER BY received_at, id`,
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
