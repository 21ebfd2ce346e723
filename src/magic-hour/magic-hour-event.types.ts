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
 * Where an event stands in the inbox. `stale`: signed with the right secret but outside the timestamp
 * tolerance, so answered 401 and not processed; kept for an operator to replay, and replaced by a
 * fresh delivery of the same event.
 */
export const EVENT_STATUSES = ['received', 'processed', 'failed', 'ignored', 'quarantined', 'stale'] as const;
/** Where an event stands in the inbox. */
export type EventStatus = (typeof EVENT_STATUSES)[number];

/** A job's status as this service derives it from events. */
export const JOB_STATUSES = ['rendering', 'complete', 'error'] as const;
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

/** The action part of a known event type. */
export function actionOf(type: MagicHourEventType): EventAction {
  return type.slice(type.indexOf('.') + 1) as EventAction;
}
