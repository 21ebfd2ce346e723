import type { EventStatus } from '../magic-hour/magic-hour-event.types.js';

/**
 * No event is deleted sooner than this after it arrived, whatever is configured: Magic Hour retries a
 * delivery for 24 hours, and only the stored event's key makes such a retry a duplicate. Finished jobs
 * are held to it too, so that a late retry cannot bring a deleted job back.
 */
export const RETENTION_FLOOR_DAYS = 3;

/** Events whose work is done: deleted after `EVENT_RETENTION_DAYS`. */
export const SETTLED_EVENT_STATUSES: readonly EventStatus[] = ['processed', 'ignored'];
/** Events waiting for an operator: deleted after `UNRESOLVED_RETENTION_DAYS` unless replayed first. */
export const UNRESOLVED_EVENT_STATUSES: readonly EventStatus[] = ['failed', 'quarantined', 'stale'];

/**
 * Rows one statement deletes. Small, so that each delete holds its row locks, its CPU and its WAL
 * writes for a moment only (about 25 ms on two shared cores), and intake's inserts, which never touch
 * old rows, are not held up behind it.
 */
export const RETENTION_BATCH_SIZE = 500;
/**
 * Stored files one transaction forgets and removes. Few, so that the transaction, idle while the files
 * are removed, ends long before Postgres's idle-in-transaction timeout even on a slow disk.
 */
export const RETENTION_FILE_BATCH_SIZE = 50;
/** Least pause after each batch. */
export const RETENTION_BATCH_PAUSE_MS = 25;
/**
 * Pause after a batch as a multiple of the time it took: a pass keeps one Postgres backend busy a
 * sixth of the time at most, however slow the machine, and leaves the rest to intake.
 */
export const RETENTION_PAUSE_FACTOR = 5;
/** The first pass after a start comes this soon (or after one interval, if that is shorter), not at boot. */
export const RETENTION_FIRST_PASS_DELAY_MS = 30_000;
/** Arbitrary but fixed: the advisory lock that lets one worker at a time run a pass. */
export const RETENTION_LOCK_ID = 7_351_902_115;
