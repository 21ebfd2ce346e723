/** The media Magic Hour renders; each has its own event types and project shape. */
export const MEDIA = ['video', 'image', 'audio'] as const;
/** A Magic Hour media kind. */
export type Media = (typeof MEDIA)[number];

/** What happened to a job: every Magic Hour event type is `<media>.<action>`. */
export const EVENT_ACTIONS = ['started', 'completed', 'errored'] as const;
/** A Magic Hour event action. */
export type EventAction = (typeof EVENT_ACTIONS)[number];

/** A Magic Hour event type we know how to process, such as `video.completed`. */
export type MagicHourEventType = `${Media}.${EventAction}`;

/** The nine event types Magic Hour sends today. */
export const EVENT_TYPES: readonly MagicHourEventType[] = MEDIA.flatMap((media) =>
  EVENT_ACTIONS.map((action) => `${media}.${action}` as const),
);

/**
 * What can happen to a job: Magic Hour's actions and `canceled`, which Magic Hour sends no webhook
 * for; only the reconciler records it, from the API's answer.
 */
export const JOB_EVENT_ACTIONS = [...EVENT_ACTIONS, 'canceled'] as const;
/** An action that can be applied to a job. */
export type JobEventAction = (typeof JOB_EVENT_ACTIONS)[number];

/** An event type that can be applied to a job: a webhook's, or `<media>.canceled` from the API. */
export type JobEventType = `${Media}.${JobEventAction}`;

/** The twelve event types applied to jobs (and that handlers can subscribe to). */
export const JOB_EVENT_TYPES: readonly JobEventType[] = MEDIA.flatMap((media) =>
  JOB_EVENT_ACTIONS.map((action) => `${media}.${action}` as const),
);

/** Where a stored event came from: a webhook delivery, or the reconciler's reading of Magic Hour's API. */
export const EVENT_SOURCES = ['webhook', 'api'] as const;
/** Where a stored event came from. */
export type EventSource = (typeof EVENT_SOURCES)[number];

/**
 * Where an event stands in the inbox. `stale`: signed with the right secret but outside the timestamp
 * tolerance, so answered 401 and not processed; kept for an operator to replay, and replaced by a
 * fresh delivery of the same event.
 */
export const EVENT_STATUSES = ['received', 'processed', 'failed', 'ignored', 'quarantined', 'stale'] as const;
/** Where an event stands in the inbox. */
export type EventStatus = (typeof EVENT_STATUSES)[number];

/**
 * A job's status as this service derives it from events: `queued` only for a job registered with
 * `POST /jobs` before any news; `complete`, `error` and `canceled` are terminal.
 */
export const JOB_STATUSES = ['queued', 'rendering', 'complete', 'error', 'canceled'] as const;
/** A job's status as this service derives it from events. */
export type JobStatus = (typeof JOB_STATUSES)[number];

/** The media an event `type` names, or `unknown`. */
export function mediaOf(type: string): Media | 'unknown' {
  const media = type.split('.', 1)[0];
  return (MEDIA as readonly string[]).includes(media) ? (media as Media) : 'unknown';
}

/** Whether `type` is one of the nine known event types. */
export function isKnownEventType(type: string): type is MagicHourEventType {
  return (EVENT_TYPES as readonly string[]).includes(type);
}

/** Whether `type` is one of the twelve types applied to jobs (the nine webhook types and `<media>.canceled`). */
export function isJobEventType(type: string): type is JobEventType {
  return (JOB_EVENT_TYPES as readonly string[]).includes(type);
}

/** How old a job may be (by its `created_at`) and still be checked with Magic Hour's API on a schedule. */
export const RECONCILE_MAX_AGE_DAYS = 7;

/** The statuses a job never leaves. */
export const TERMINAL_JOB_STATUSES = ['complete', 'error', 'canceled'] as const satisfies readonly JobStatus[];

/** Whether a job in `status` is finished (it never changes status again). */
export function isTerminalStatus(status: JobStatus): boolean {
  return (TERMINAL_JOB_STATUSES as readonly string[]).includes(status);
}

/** The action part of an event type applied to jobs. */
export function actionOf<T extends JobEventType>(type: T): T extends MagicHourEventType ? EventAction : JobEventAction {
  return type.slice(type.indexOf('.') + 1) as T extends MagicHourEventType ? EventAction : JobEventAction;
}
