import { ApiProperty } from '@nestjs/swagger';
import {
  EVENT_SOURCES,
  EVENT_STATUSES,
  JOB_STATUSES,
  MEDIA,
  type EventSource,
  type EventStatus,
  type JobStatus,
  type Media,
} from '../../magic-hour/magic-hour-event.types.js';
import type { JobDetails, JobDownload, JobEntity, JobError } from '../../database/entities/job.entity.js';
import type { StoredFile } from '../stored-file.repository.js';
import type { JobEventRecord } from '../../webhook/webhook-event.repository.js';

// These classes are the REST API's response shapes and, through their decorators, its OpenAPI schemas.

/** One event in a job's history. */
export class JobEventResponse {
  @ApiProperty({ example: 'video.completed' })
  type!: string;

  @ApiProperty({ enum: EVENT_STATUSES, enumName: 'EventStatus' })
  status!: EventStatus;

  @ApiProperty({ format: 'date-time' })
  receivedAt!: string;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  processedAt!: string | null;

  @ApiProperty({
    enum: EVENT_SOURCES,
    enumName: 'EventSource',
    description: "webhook: a delivery; api: what the reconciler read from Magic Hour's API",
  })
  source!: EventSource;
}

/** Where the job stands with the reconciler, which asks Magic Hour's API about jobs without news. */
export class JobReconciliationResponse {
  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: "When Magic Hour's API was last asked about the job" })
  lastCheckedAt!: string | null;

  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    description: 'When the next check is due, once checked; null before the first check and when none is planned',
  })
  nextCheckAt!: string | null;

  @ApiProperty({
    type: String,
    nullable: true,
    description:
      'What the last check found: applied, unchanged, not_found, unauthorized, rate_limited, server_error, timeout, unreadable, ...; checking while a worker asks',
  })
  lastOutcome!: string | null;

  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    description: "When Magic Hour's API said it does not know the job (404); it is not asked again unless POST /jobs/:id/reconcile",
  })
  notFoundAt!: string | null;
}

/** An output the download handler stored. */
export class JobFileResponse {
  @ApiProperty()
  url!: string;

  @ApiProperty({ description: 'Where the file is stored, under DOWNLOAD_DIR' })
  path!: string;

  @ApiProperty({ type: 'integer' })
  bytes!: number;

  @ApiProperty({ description: 'Lowercase hex SHA-256 of the stored file' })
  sha256!: string;

  @ApiProperty({ format: 'date-time' })
  storedAt!: string;
}

/** A rendered file, as the job's latest payload lists it. */
export class JobDownloadResponse implements JobDownload {
  @ApiProperty({ example: 'https://videos.magichour.ai/id/output.mp4' })
  url!: string;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  expiresAt!: string | null;
}

/** Why Magic Hour says a job failed. */
export class JobErrorResponse implements JobError {
  @ApiProperty({ type: String, nullable: true })
  code!: string | null;

  @ApiProperty({ type: String, nullable: true })
  message!: string | null;
}

/** A job as the REST API shows it. */
export class JobResponse {
  @ApiProperty({ description: "Magic Hour's project id", example: 'cm3testjob000001' })
  id!: string;

  @ApiProperty({ enum: MEDIA, enumName: 'Media' })
  media!: Media;

  @ApiProperty({ type: String, nullable: true, example: 'TEXT_TO_VIDEO' })
  projectType!: string | null;

  @ApiProperty({ type: String, nullable: true })
  name!: string | null;

  @ApiProperty({
    enum: JOB_STATUSES,
    enumName: 'JobStatus',
    description:
      'Decided by the event types, never moving backwards; the first terminal event wins. queued: registered with POST /jobs, no news yet; canceled: read from the API',
  })
  status!: JobStatus;

  @ApiProperty({ type: [JobDownloadResponse] })
  downloads!: JobDownload[];

  @ApiProperty({ type: JobErrorResponse, nullable: true })
  error!: JobError | null;

  @ApiProperty({ type: 'integer', nullable: true })
  creditsCharged!: number | null;

  /** Fields only this media has, such as a video's `width`, `height` and `fps`. */
  @ApiProperty({
    type: 'object',
    additionalProperties: { oneOf: [{ type: 'string' }, { type: 'number' }, { type: 'boolean' }] },
    description: "Fields only this media has: a video's width, height, fps, startSeconds, endSeconds; an image's imageCount",
    example: { width: 1280, height: 720, fps: 30 },
  })
  details!: JobDetails;

  @ApiProperty({ format: 'date-time', description: "The payload's created_at, or the first event's arrival" })
  createdAt!: string;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  startedAt!: string | null;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  completedAt!: string | null;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  erroredAt!: string | null;

  @ApiProperty({ format: 'date-time' })
  updatedAt!: string;

  @ApiProperty({ type: JobReconciliationResponse })
  reconciliation!: JobReconciliationResponse;

  @ApiProperty({ type: [JobEventResponse], description: "The job's events in arrival order" })
  events!: JobEventResponse[];

  /** Outputs stored by the download handler (empty while it is off). */
  @ApiProperty({ type: [JobFileResponse], description: 'Outputs the download handler stored (empty while it is off)' })
  files!: JobFileResponse[];
}

/** `POST /jobs/reconcile`'s answer. */
export class ReconcilePassResponse {
  @ApiProperty({ type: 'integer', description: 'Unfinished jobs now due a check' })
  due!: number;
}

/** A page of jobs, newest first. */
export class JobPageResponse {
  @ApiProperty({ type: [JobResponse] })
  items!: JobResponse[];

  /** Pass as `cursor` for the next page; `null` on the last. */
  @ApiProperty({ type: String, nullable: true, description: 'Pass as `cursor` for the next page; null on the last' })
  nextCursor!: string | null;
}

const iso = (date: Date | null): string | null => (date ? date.toISOString() : null);

/** Shapes a job and its history for the API. */
export function toJobResponse(job: JobEntity, events: readonly JobEventRecord[], files: readonly StoredFile[] = []): JobResponse {
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
    reconciliation: {
      lastCheckedAt: iso(job.reconcileCheckedAt),
      nextCheckAt: iso(job.reconcileNextAt),
      lastOutcome: job.reconcileOutcome,
      notFoundAt: iso(job.apiNotFoundAt),
    },
    events: events.map((event) => ({
      type: event.type,
      status: event.status,
      receivedAt: event.receivedAt.toISOString(),
      processedAt: iso(event.processedAt),
      source: event.source,
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
