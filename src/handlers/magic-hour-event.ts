import type { Logger } from '@nestjs/common';
import type { JobResponse } from '../jobs/dto/job.response.js';
import type { AudioPayloadDto, ImagePayloadDto, VideoPayloadDto } from '../magic-hour/dto/project-payload.dto.js';
import type { EventSource, JobEventAction, JobEventType, Media } from '../magic-hour/magic-hour-event.types.js';

interface EventOf<M extends Media, P> {
  /** The stored event's id (`webhook_events.id`). */
  id: string;
  /** `<media>.canceled` comes only from the reconciler (Magic Hour sends no webhook for a cancellation). */
  type: `${M}.${JobEventAction}`;
  media: M;
  action: JobEventAction;
  /** Magic Hour's project id: the job's id. */
  projectId: string;
  /** The payload as Magic Hour sent it (validated; fields may be added at any time). */
  payload: P;
  receivedAt: Date;
  /** Where the event came from: a webhook, or the reconciler's reading of Magic Hour's API. */
  source: EventSource;
}

/** A `video.*` event. */
export type VideoEvent = EventOf<'video', VideoPayloadDto>;
/** An `image.*` event. */
export type ImageEvent = EventOf<'image', ImagePayloadDto>;
/** An `audio.*` event. */
export type AudioEvent = EventOf<'audio', AudioPayloadDto>;

/** An event as a handler receives it: narrow on `media` (or `type`) to get the payload's own fields. */
export type MagicHourEvent = VideoEvent | ImageEvent | AudioEvent;

/**
 * What `@OnMagicHourEvent` listens to: an exact type (`'video.canceled'` included), every event of
 * one media (`'video.*'`), one action of every media (`'*.canceled'`), or every event.
 */
export type EventPattern = JobEventType | `${Media}.*` | `*.${JobEventAction}` | '*';

/** What a handler run is told besides the event and the job. */
export interface HandlerContext {
  /** `ClassName.method`: the handler's name in runs, logs and `?handler=` replays. */
  handler: string;
  /** 1 on the first run, then 2, 3, ... up to `maxAttempts`. */
  attempt: number;
  maxAttempts: number;
  /** A logger named after the handler. */
  logger: Logger;
  /** Aborts when the run's timeout (`HANDLER_TIMEOUT_MS`) passes; pass it to fetch, streams, queries. */
  signal: AbortSignal;
}

/** The shape of a method decorated with `@OnMagicHourEvent`. */
export type MagicHourEventHandler = (event: MagicHourEvent, job: JobResponse, context: HandlerContext) => unknown;

/**
 * Throw this from a handler when running it again cannot help (say, a download URL has expired): the
 * run becomes a dead letter at once instead of being retried.
 */
export class PermanentHandlerError extends Error {
  override readonly name = 'PermanentHandlerError';
}
