import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { ConflictError, JobNotFoundError } from '../common/domain.errors.js';
import { APP_CONFIG, type AppConfig } from '../config/app.config.js';
import { RECONCILE_MAX_AGE_DAYS, type Media } from '../magic-hour/magic-hour-event.types.js';
import { decodeKeysetCursor, encodeKeysetCursor } from '../common/keyset-cursor.js';
import { DEFAULT_PAGE_SIZE } from '../common/page.query.js';
import type { ListJobsQuery } from './dto/list-jobs.query.js';
import { toJobResponse, type JobPageResponse, type JobResponse } from './dto/job.response.js';
import { StoredFileRepository } from './stored-file.repository.js';
import { WebhookEventRepository } from '../webhook/webhook-event.repository.js';
import { JobRepository } from './job.repository.js';

/** Answers "what is the status of job X?" and lists jobs. */
@Injectable()
export class JobsService {
  constructor(
    private readonly jobs: JobRepository,
    private readonly files: StoredFileRepository,
    private readonly events: WebhookEventRepository,
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /**
   * Tracks a project before any webhook, as `queued`, so that it is reconciled even if every webhook
   * is lost. Idempotent: a job stored already (of the same media) is answered as it is.
   * @throws ConflictError when the id is stored as a job of another media
   */
  async register(id: string, media: Media): Promise<{ created: boolean; job: JobResponse }> {
    const stored = await this.jobs.register(id, media);
    if (stored.media !== media) throw new ConflictError(`Job ${id} is tracked as a ${stored.media} job, not ${media}`);
    return { created: stored.created, job: await this.get(id) };
  }

  /**
   * Makes every unfinished job checked on a schedule due a check now: one reconcile pass, which the
   * workers make within the API budget. Returns how many jobs are due.
   * @throws ConflictError when reconciliation is off
   */
  async requestReconcilePass(): Promise<{ due: number }> {
    if (this.config.reconcile === null) throw new ConflictError('Reconciliation is off: set MAGIC_HOUR_API_KEY to turn it on');
    return { due: await this.jobs.requestCheckOfAll(RECONCILE_MAX_AGE_DAYS) };
  }

  /**
   * Asks for a check of the job with Magic Hour's API now: a worker's reconciler takes it within
   * `RECONCILE_INTERVAL_MS`. Returns the job.
   * @throws ConflictError when reconciliation is off, or the job is finished
   * @throws JobNotFoundError
   */
  async requestReconcile(id: string): Promise<JobResponse> {
    if (this.config.reconcile === null) throw new ConflictError('Reconciliation is off: set MAGIC_HOUR_API_KEY to turn it on');
    const status = await this.jobs.requestCheck(id);
    if (status === null) throw new JobNotFoundError(id);
    if (status !== 'queued' && status !== 'rendering') throw new ConflictError(`Job ${id} is ${status}: there is nothing to reconcile`);
    return this.get(id);
  }

  /** @throws JobNotFoundError */
  async get(id: string): Promise<JobResponse> {
    // History first, then the job: an event the history shows as processed was committed with its job
    // update, so the job read after it includes it (read the other way round, they could disagree).
    const [events, files] = await Promise.all([this.events.eventsOfJobs([id]), this.files.listFor([id])]);
    const job = await this.jobs.findById(id);
    if (!job) throw new JobNotFoundError(id);
    return toJobResponse(job, events, files);
  }

  /** A page of jobs, newest first, with each job's history. */
  async list(query: ListJobsQuery): Promise<JobPageResponse> {
    const limit = query.limit ?? DEFAULT_PAGE_SIZE;
    const position = query.cursor === undefined ? undefined : decodeKeysetCursor(query.cursor);
    const after = position && { createdAt: position.at, id: position.id };
    // One snapshot for the page and its histories, so a job is never listed behind its own history.
    const { rows, events, files } = await this.dataSource.transaction('REPEATABLE READ', async (manager) => {
      const found = await this.jobs.list({ status: query.status, media: query.media, limit, after }, manager);
      const ids = found.slice(0, limit).map((job) => job.id);
      const [history, stored] = [await this.events.eventsOfJobs(ids, manager), await this.files.listFor(ids, manager)];
      return { rows: found, events: history, files: stored };
    });
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      items: page.map((job) =>
        toJobResponse(
          job,
          events.filter((event) => event.projectId === job.id),
          files.filter((file) => file.jobId === job.id),
        ),
      ),
      nextCursor: rows.length > limit && last ? encodeKeysetCursor({ at: last.createdAt, id: last.id }) : null,
    };
  }
}
