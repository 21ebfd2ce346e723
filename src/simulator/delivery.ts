import { signedHeaders, unixSeconds } from './signing.js';

/** What one HTTP attempt to deliver an event got back. */
export interface AttemptOutcome {
  /** Answered 2xx: Magic Hour counts the event as delivered. */
  ok: boolean;
  /** The HTTP status, or `null` when there was no answer (connection refused, timeout). */
  status: number | null;
  /** The answer's body, or why there was none. */
  detail: string;
}

/**
 * Signs `body` now and POSTs it to `url` once, as Magic Hour does: a fresh timestamp and signature on
 * every attempt (a retry hours later must still be within the receiver's tolerance), the same bytes.
 * No answer within `timeoutMs` counts as a failure, like Magic Hour's 10 seconds.
 */
export async function postSignedEvent(
  url: string,
  body: string,
  secret: string,
  timeoutMs: number,
  timestamp: number = unixSeconds(),
): Promise<AttemptOutcome> {
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: signedHeaders(body, secret, timestamp),
      body,
      signal: AbortSignal.timeout(timeoutMs),
    });
    const detail = await response.text();
    return { ok: response.status >= 200 && response.status < 300, status: response.status, detail };
  } catch (error) {
    return { ok: false, status: null, detail: describeFetchError(error, timeoutMs) };
  }
}

/** A short reason for a failed `fetch`: `ECONNREFUSED`, `no answer within 10000 ms`, ... */
export function describeFetchError(error: unknown, timeoutMs: number): string {
  // Read by shape, not `instanceof`: fetch's errors may come from another realm (a test's VM context).
  const { name, message, cause } = (error ?? {}) as { name?: unknown; message?: unknown; cause?: { code?: unknown; message?: unknown } };
  if (name === 'TimeoutError' || name === 'AbortError') return `no answer within ${timeoutMs} ms`;
  if (typeof cause?.code === 'string') return cause.code;
  if (typeof cause?.message === 'string') return cause.message;
  return typeof message === 'string' ? message : String(error);
}

/** Magic Hour's retry schedule, shortened by a cap. */
export interface BackoffPolicy {
  /** Retries after the first attempt before the delivery is given up. */
  maxRetries: number;
  /** Wait before the first retry; each later one waits twice as long as the one before. */
  baseMs: number;
  /** Longest wait between two attempts. */
  capMs: number;
}

/** The wait before retry number `retry` (1 for the first): `baseMs * 2^(retry-1)`, at most `capMs`. */
export function backoffDelay(retry: number, policy: Pick<BackoffPolicy, 'baseMs' | 'capMs'>): number {
  return Math.min(policy.capMs, policy.baseMs * 2 ** (retry - 1));
}

/** Runs at most `max` tasks at once; the others wait their turn in order. */
export function concurrencyLimit(max: number): <T>(task: () => Promise<T>) => Promise<T> {
  let active = 0;
  const waiting: Array<() => void> = [];
  return async (task) => {
    if (active < max) active++;
    // A finishing task hands its slot straight to the next waiter, so nobody can jump the queue.
    else await new Promise<void>((resolve) => waiting.push(resolve));
    try {
      return await task();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else active--;
    }
  };
}

/** Resolves after `ms` milliseconds. */
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
