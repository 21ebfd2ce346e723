import type { JobDetails } from '../../database/entities/job.entity.js';
import type { JobSnapshot } from '../../jobs/job-transition.js';
import type { AudioPayloadDto, ImagePayloadDto, ProjectPayloadDto, VideoPayloadDto } from '../../magic-hour/dto/project-payload.dto.js';
import type { Media } from '../../magic-hour/magic-hour-event.types.js';

/** A media's own payload fields, before the ones Magic Hour left out are dropped. */
export type MediaDetails = Record<string, string | number | boolean | null | undefined>;

/** A stored payload: validated at intake, so it has the DTO's shape (plus whatever Magic Hour added). */
export type StoredPayload<T extends ProjectPayloadDto> = Readonly<T>;

/** The earliest `created_at` taken as a job's creation time: well before Magic Hour existed. */
export const EARLIEST_CREATED_AT = Date.UTC(2000, 0, 1);
/**
 * How far ahead of this service's clock a `created_at` may be and still be taken: a job is created
 * before its first event is sent, so only clock skew (or a zone written wrong) puts it ahead, and a
 * day covers every zone offset.
 */
export const CREATED_AT_MAX_AHEAD_MS = 24 * 60 * 60 * 1000;

/**
 * A payload's `created_at` as a job's creation time, or `undefined` when it is missing, unreadable or
 * outside the sane range; the job then keeps the time its first event arrived. A far-off date would
 * sort first (or last) in every job list for good.
 */
export function creationTime(createdAt: string | null | undefined, now = Date.now()): Date | undefined {
  if (!createdAt) return undefined;
  const at = new Date(createdAt);
  const ms = at.getTime();
  return ms >= EARLIEST_CREATED_AT && ms <= now + CREATED_AT_MAX_AHEAD_MS ? at : undefined;
}

/** Beyond this magnitude an integer does not fit the `bigint` column credits are stored in. */
const BIGINT_LIMIT = 2 ** 63;

/**
 * Credits as the job stores them: any integer a `bigint` holds. One beyond it is left out (the event
 * keeps it as sent) rather than failing the event for a figure that only informs.
 */
export function storableCredits(credits: number | null | undefined): number | undefined {
  if (credits == null) return undefined;
  return typeof credits === 'number' && Math.abs(credits) >= BIGINT_LIMIT ? undefined : credits;
}

/** Drops the entries whose value Magic Hour did not send, so they do not overwrite what a job has. */
export function definedEntries(values: MediaDetails): JobDetails {
  return Object.fromEntries(Object.entries(values).filter((entry): entry is [string, string | number | boolean] => entry[1] != null));
}

/** Reads one media's stored payloads into what they say about their jobs; no I/O, no state. */
export interface MediaEventMapper {
  /** The media whose events this mapper reads. */
  readonly media: Media;
  /** What a stored payload of this media says about its job. */
  snapshot(payload: StoredPayload<ProjectPayloadDto>): JobSnapshot;
}

/**
 * What every media's event service does: read a payload into a job snapshot. A subclass adds what
 * only its media has (`details`). Applying the snapshot is `EventProcessingService`'s work.
 */
export abstract class MediaEventService<T extends VideoPayloadDto | ImagePayloadDto | AudioPayloadDto> implements MediaEventMapper {
  abstract readonly media: Media;

  /** What a payload of this media says about its job. */
  snapshot(payload: StoredPayload<T>): JobSnapshot {
    return {
      projectType: payload.type ?? undefined,
      name: payload.name ?? undefined,
      downloads: payload.downloads?.map((download) => ({ url: download.url, expiresAt: download.expires_at ?? null })),
      error:
        payload.error === undefined
          ? undefined
          : payload.error === null
            ? null
            : { code: payload.error.code ?? null, message: payload.error.message ?? null },
      creditsCharged: storableCredits(payload.credits_charged),
      createdAt: creationTime(payload.created_at),
      details: definedEntries(this.details(payload)),
    };
  }

  /** The fields only this media has, in camelCase; absent ones are dropped. */
  protected abstract details(payload: StoredPayload<T>): MediaDetails;
}
