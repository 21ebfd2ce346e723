import type { EventStatus, JobStatus, Media } from '../../webhook/magic-hour-event.types.js';
import type { JobDetails, JobDownload, JobEntity, JobError } from '../job.entity.js';
import type { StoredFile } from '../../handlers/stored-file.repository.js';
import type { JobEventRecord } from '../job.repository.js';

/** One event in a job's history. */
export interface JobEventResponse {
  type: string;
  status: EventStatus;
  receivedAt: string;
  processedAt: string | null;
}

/** An output the download handler stored. */
export interface JobFileResponse {
  url: string;
  path: string;
  bytes: number;
  sha256: string;
  storedAt: string;
}

/** A job as the REST API shows it. */
export interface JobResponse {
  id: string;
  media: Media;
  projectType: string | null;
  name: string | null;
  status: JobStatus;
  downloads: JobDownload[];
  error: JobError | null;
  creditsCharged: number | null;
  /** Fields only this media has, such as a video's `width`, `height` and `fps`. */
  details: JobDetails;
  createdAt: string;
  startedAt: string | null;
  completedAt: string | null;
  erroredAt: string | null;
  updatedAt: string;
  events: JobEventResponse[];
  /** Outputs stored by the download handler (empty while it is off). */
  files: JobFileResponse[];
}

/** A page of jobs, newest first. */
export interface JobPageResponse {
  items: JobResponse[];
  /** Pass as `cursor` for the next page; `null` on the last. */
  nextCursor: string | null;
}

const iso = (date: Date | null): string | null => (date ? date.toISOString() : null);

/** Shapes a job and its history for the API. */
export function toJobResponse(
  job: JobEntity,
  events: readonly JobEventRecord[],
  files: readonly StoredFile[] = [],
): JobResponse {
  return {
    id: job.id,
    media: job.media,
    projectType: job.projectType,
    name: job.name,
    status: job.status,
    downloads: job.downloads,
    error: job.error,
    creditsCharged: job.creditsCharged,
    details: job.details,
    createdAt: job.createdAt.toISOString(),
    startedAt: iso(job.startedAt),
    completedAt: iso(job.completedAt),
    erroredAt: iso(job.erroredAt),
    updatedAt: job.updatedAt.toISOString(),
    events: events.map((event) => ({
      type: event.type,
      status: event.status,
      receivedAt: event.receivedAt.toISOString(),
      processedAt: iso(event.processedAt),
    })),
    files: files.map((file) => ({
      url: file.url,
      path: file.path,
      bytes: file.bytes,
      sha256: file.sha256,
      storedAt: file.storedAt.toISOString(),
    })),
  };
}
