import type { Media } from '../magic-hour/magic-hour-event.types.js';

/** The route Magic Hour posts to (`POST /webhook`), without its leading slash as Nest routes take it. */
export const WEBHOOK_ROUTE = 'webhook';

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
 * Intake batches written at once; further requests gather into the next batch meanwhile. One: since
 * intake answers without waiting for Redis, a batch holds its slot only for its INSERT and commit, and
 * one batch at a time makes the next one bigger, so fewer commits for the same load. Measured against
 * 2 and 3 in the same run (fresh service each, 64 connections): 9.5k to 9.7k requests/s against 8.5k
 * and 8.0k to 8.2k, and the lowest p99 at 1,000 events/s (4.0 ms against 4.6 to 5.0 and 4.2 to 4.3).
 */
export const INTAKE_BATCHES_IN_FLIGHT = 1;
/**
 * How long intake gathers committed events before handing them to the queue in one call. It delays
 * processing, never an answer (the answer waits only for Postgres). At 1,000 requests a second each
 * intake batch is one event; every hand-over is a Redis call here and a job for the worker, which
 * then claims it, runs a transaction per media and completes it. So the window sets how much the
 * whole system spends per event at moderate rates. Measured at 1,000 events/s with an API and a
 * worker process on two cores (see README, "Performance"): a 5 ms window cost the worker 42% of a
 * core, Postgres 62% and Redis 5%, and the API's p99 was 37 to 42 ms; 50 ms took them to 14%, 33%
 * and 1%, and the p99 to 12 ms. Wider windows saved little more.
 */
export const HANDOVER_DELAY_MS = 50;
/**
 * Most event keys intake remembers as "in doubt": their insert failed with the connection (it may have
 * committed all the same). Beyond this, the relay's late re-queue (`RELAY_REQUEUE_AFTER_MS`) covers them.
 */
export const INTAKE_IN_DOUBT_MAX = 50_000;

/** How often the relay looks for stored events that never reached the queue. */
export const RELAY_INTERVAL_MS = 2000;
/** An event younger than this is left to intake, which may still be enqueueing it. */
export const RELAY_GRACE_MS = 3000;
/**
 * An event queued this long ago and still unprocessed is queued again (Redis may have lost it), if
 * the queue has no job waiting (`WebhookEventRelay`).
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
