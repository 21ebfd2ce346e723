import type { Media } from '../magic-hour/magic-hour-event.types.js';

/** The route Magic Hour posts to (`POST /webhook`), without its leading slash as Nest routes take it. */
export const WEBHOOK_ROUTE = 'webhook';

/** The `@nestjs/bull` configuration key of this service's Redis connection and queue settings. */
export const BULL_CONFIG_KEY = 'magic-hour-webhooks';

/** The Bull queue that carries stored events to the worker. */
export const WEBHOOK_QUEUE = 'magic-hour-events';

/** How many times the worker tries one queue job before marking its failing events `failed`. */
export const PROCESS_ATTEMPTS = 8;
/** First retry delay; each further retry doubles it (1 s, 2 s, 4 s, ... about 2 minutes in all). */
export const PROCESS_BACKOFF_MS = 1000;
/** Queue jobs (each a batch of events) one worker process works on at once. */
export const WORKER_CONCURRENCY = 8;
/** Most events in one queue job; intake batches and relay batches are cut to this size. */
export const QUEUE_BATCH_MAX = 500;
/** Completed Bull jobs kept in Redis; Postgres holds the real history, so a few are enough. */
export const KEEP_COMPLETED_JOBS = 100;
/** Failed Bull jobs kept in Redis for inspection. */
export const KEEP_FAILED_JOBS = 1000;

/** The Bull queue that carries events whose handlers are to run. */
export const HANDLER_QUEUE = 'magic-hour-handlers';
/** Events whose handlers one worker process runs at once. */
export const HANDLER_CONCURRENCY = 4;

/** What a handler queue job carries. */
export interface HandlerJobData {
  eventId: string;
}

/** The longest a hand-over to Redis may take (intake answers without waiting); the relay enqueues what did not make it. */
export const ENQUEUE_TIMEOUT_MS = 1000;
/**
 * With Sentinels, how long a hand-over waits for a replica to hold it too (Redis's `WAIT`); past it the
 * hand-over counts as failed and the relay makes it again.
 */
export const REPLICA_ACK_TIMEOUT_MS = 500;
/** Cap on the delay between attempts to reconnect to Redis. */
export const REDIS_MAX_RECONNECT_DELAY_MS = 2000;

/**
 * How long a worker's lock on a queue job lasts; it renews the lock every half of this while it works.
 * A worker that dies (SIGKILL, out of memory) stops renewing, and once the lock lapses another worker
 * takes the job over. Bull's default of 30 s (and 30 s between checks) left a dead worker's events
 * waiting up to a minute; a lapsed lock while the worker is alive only runs the job twice, which
 * Postgres makes harmless (the worker's lock on each event).
 */
export const JOB_LOCK_MS = 10_000;
/** How often each worker looks for jobs whose lock lapsed (a dead worker's), to run them again. */
export const STALLED_CHECK_INTERVAL_MS = 5_000;

/** Most events intake stores in one statement. */
export const INTAKE_BATCH_MAX = 500;
/**
 * Intake batches written at once; further requests gather into the next batch meanwhile. One batch at a
 * time makes the next one bigger, so fewer commits for the same load (docs/performance.md).
 */
export const INTAKE_BATCHES_IN_FLIGHT = 1;
/**
 * How long intake gathers committed events before handing them to the queue in one call. It delays
 * processing, never an answer; each hand-over is a Redis call and a job for the worker, so fewer,
 * larger hand-overs cost the worker and Postgres much less at moderate rates (docs/performance.md).
 */
export const HANDOVER_DELAY_MS = 50;
/** How often the relay looks for stored events that never reached the queue. */
export const RELAY_INTERVAL_MS = 2000;
/**
 * A stored event whose hand-over Redis has not confirmed this long after it was stored is queued by
 * the relay. Intake's own hand-over takes at most `HANDOVER_DELAY_MS` + `ENQUEUE_TIMEOUT_MS`, so an
 * event younger than this may still be on its way.
 */
export const RELAY_GRACE_MS = 3000;
/**
 * An event queued this long ago and still unprocessed is queued again, if the queue has no job waiting
 * (`WebhookEventRelay`): a backstop for a single job lost while Redis kept its other keys. Redis losing
 * its data (flushed, restarted or failed over empty) is seen within a relay pass, by its marker.
 */
export const RELAY_REQUEUE_AFTER_MS = 2 * 60 * 1000;
/** An event queued this long ago and still unprocessed is queued again even while jobs are waiting. */
export const RELAY_REQUEUE_CEILING_MS = 15 * 60 * 1000;
/** Events the relay hands to the queue per batch. */
export const RELAY_BATCH_SIZE = 500;

/** A stored event as the queue carries it: its id, and its media to pick the service. */
export interface QueuedEvent {
  eventId: string;
  media: Media;
}

/**
 * What a queue job carries: the events that were stored together (one intake batch, or one relay
 * batch). Processing them together lets the worker apply many events per transaction.
 */
export interface WebhookJobData {
  events: QueuedEvent[];
}
