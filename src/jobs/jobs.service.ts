import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { InvalidRequestError, JobNotFoundError } from '../common/domain.errors.js';
import { DEFAULT_PAGE_SIZE, type ListJobsQuery } from './dto/list-jobs.query.js';
import { toJobResponse, type JobPageResponse, type JobResponse } from './dto/job.response.js';
import { StoredFileRepository } from '../handlers/stored-file.repository.js';
import { JobRepository } from './job.repository.js';

/** Encodes a keyset position as an opaque cursor. */
export function encodeCursor(position: { createdAt: Date; id: string }): string {
  return Buffer.from(JSON.stringify([position.createdAt.toISOString(), position.id])).toString('base64url');
}

/** Decodes a cursor made by `encodeCursor`; throws `InvalidRequestError` for anything else. */
export function decodeCursor(cursor: string): { createdAt: Date; id: string } {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(value) && value.length === 2 && typeof value[0] === 'string' && typeof value[1] === 'string') {
      const createdAt = new Date(value[0]);
      if (!Number.isNaN(createdAt.getTime())) return { createdAt, id: value[1] };
    }
  } catch {
    // falls through to the error below
  }
  throw new InvalidRequestError('cursor is not one this API returned');
}

/** Answers "what is the status of job X?" and lists jobs. */
@Injectable()
export class JobsService {
  constructor(
    private readonly jobs: JobRepository,
    private readonly files: StoredFileRepository,
    @InjectDataSource() private readonly dataSource: DataSource,
  ) {}

  /** @throws JobNotFoundError */
  async get(id: string): Promise<JobResponse> {
    // History first, then the job: an event the history shows as processed was committed with its job
    // update, so the job read after it includes it (read the other way round, they could disagree).
    const [events, files] = await Promise.all([this.jobs.eventsOf([id]), this.files.listFor([id])]);
    const job = await this.jobs.findById(id);
    if (!job) throw new JobNotFoundError(id);
    return toJobResponse(job, events, files);
  }

  /** A page of jobs, newest first, with each job's history. */
  async list(query: ListJobsQuery): Promise<JobPageResponse> {
    const limit = query.limit ?? DEFAULT_PAGE_SIZE;
    const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
    // One snapshot for the page and its histories, so a job is never listed behind its own history.
    const { rows, events, files } = await this.dataSource.transaction('REPEATABLE READ', async (manager) => {
      const found = await this.jobs.list({ status: query.status, media: query.media, limit, after }, manager);
      const ids = found.slice(0, limit).map((job) => job.id);
      const [history, stored] = [await this.jobs.eventsOf(ids, manager), await this.files.listFor(ids, manager)];
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
      nextCursor: rows.length > limit && last ? encodeCursor(last) : null,
    };
  }
}
