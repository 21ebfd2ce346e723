import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { HandlerRunStatus } from '../../handlers/handler-run.repository.js';
import {
  EVENT_SOURCES,
  EVENT_STATUSES,
  MEDIA,
  type EventSource,
  type EventStatus,
  type Media,
} from '../../magic-hour/magic-hour-event.types.js';

// These classes are the events API's response shapes and, through their decorators, its OpenAPI schemas.

const HANDLER_RUN_STATUSES: readonly HandlerRunStatus[] = ['pending', 'running', 'succeeded', 'failed', 'dead'];

/** One handler's record for one event. */
export class HandlerRunResponse {
  @ApiProperty({ description: 'ClassName.method', example: 'DownloadOutputsHandler.store' })
  handler!: string;

  @ApiProperty({ enum: HANDLER_RUN_STATUSES, enumName: 'HandlerRunStatus' })
  status!: string;

  @ApiProperty({ type: 'integer' })
  attempts!: number;

  @ApiProperty({ type: String, nullable: true })
  lastError!: string | null;

  @ApiProperty({ type: 'integer', nullable: true })
  durationMs!: number | null;

  @ApiProperty({ format: 'date-time' })
  updatedAt!: string;
}

/** A redelivered body that differed from the stored event of its key, with how often it came. */
export class EventConflictResponse {
  @ApiProperty({ description: 'The redelivered payload' })
  payload!: unknown;

  @ApiProperty({ type: 'integer' })
  deliveries!: number;

  @ApiProperty({ format: 'date-time' })
  firstReceivedAt!: string;

  @ApiProperty({ format: 'date-time' })
  lastReceivedAt!: string;
}

/** An event as the operator API shows it; `payload` and `handlerRuns` only for one event. */
export class EventResponse {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ description: '"{type}:{payload.id}", or "quarantine:{sha256 of the body}"', example: 'video.completed:cm3testjob000001' })
  eventKey!: string;

  @ApiProperty({ example: 'video.completed' })
  type!: string;

  @ApiProperty({ enum: [...MEDIA, 'unknown'] })
  media!: Media | 'unknown';

  @ApiProperty({ type: String, nullable: true, description: 'The job (Magic Hour project) id' })
  jobId!: string | null;

  @ApiProperty({ enum: EVENT_STATUSES, enumName: 'EventStatus' })
  status!: EventStatus;

  @ApiProperty({ type: 'integer' })
  attempts!: number;

  @ApiProperty({ type: String, nullable: true })
  lastError!: string | null;

  @ApiProperty({ format: 'date-time' })
  receivedAt!: string;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  processedAt!: string | null;

  @ApiProperty({
    enum: EVENT_SOURCES,
    enumName: 'EventSource',
    description: "webhook: a delivery; api: what the reconciler read from Magic Hour's API, under the key the webhook would have had",
  })
  source!: EventSource;

  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    description: 'For an event recorded from a delivery signed outside the timestamp tolerance (status stale): when it was signed',
  })
  staleSignedAt!: string | null;

  @ApiProperty({ type: 'integer', description: 'How many different bodies were redelivered under this event key (see `conflicts`)' })
  conflictCount!: number;

  @ApiPropertyOptional({ description: 'The stored payload (GET /events/:id only); a quarantined body that is not JSON is a string' })
  payload?: unknown;

  @ApiPropertyOptional({
    type: () => [EventConflictResponse],
    description: 'GET /events/:id only: redelivered bodies that differed from this one',
  })
  conflicts?: EventConflictResponse[];

  @ApiPropertyOptional({ type: [HandlerRunResponse], description: 'GET /events/:id only' })
  handlerRuns?: HandlerRunResponse[];
}

/** A page of events, newest first. */
export class EventPageResponse {
  @ApiProperty({ type: [EventResponse] })
  items!: EventResponse[];

  @ApiProperty({ type: String, nullable: true, description: 'Pass as `cursor` for the next page; null on the last' })
  nextCursor!: string | null;
}

/**
 * What a replay can start, the one list of them: the API's schema and the console's page after a
 * replay (`/admin/events/:id?replayed=`) both take it from here.
 */
export const REPLAY_OUTCOMES = ['processing', 'handlers', 'ignored', 'quarantined'] as const;

/** One of `REPLAY_OUTCOMES`. */
export type ReplayOutcome = (typeof REPLAY_OUTCOMES)[number];

/** What a replay started. */
export class ReplayResponse {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({
    enum: REPLAY_OUTCOMES,
    description:
      'processing: queued to be applied; handlers: these handlers queued to run; ignored or quarantined: a stale event released into that status, not processed',
  })
  replayed!: ReplayOutcome;

  @ApiPropertyOptional({ type: [String] })
  handlers?: string[];
}

/** One event a bulk replay could not replay. */
export class ReplayErrorResponse {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty()
  message!: string;
}

/** What a bulk replay did. */
export class BulkReplayResponse {
  @ApiProperty({ type: 'integer' })
  matched!: number;

  @ApiProperty({ type: 'integer' })
  replayed!: number;

  @ApiProperty({ type: [ReplayErrorResponse] })
  errors!: ReplayErrorResponse[];
}
