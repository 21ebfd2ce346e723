import { concurrencyLimit, describeFetchError, sleep } from './delivery.js';

/** A job and the status `GET /jobs/:id` must show for it. */
export interface StatusExpectation {
  id: string;
  media: string;
  expected: 'complete' | 'error';
  /** Whether to wait for it; a job whose delivery was given up is looked at once. */
  wait: boolean;
}

/** A job that did not reach its expected status; `actual` is what was last seen. */
export interface StatusMismatch {
  id: string;
  media: string;
  expected: string;
  /** The job's status, `not found` for a 404, or why there was no answer. */
  actual: string;
}

/** What the check came to. */
export interface StatusCheckResult {
  checked: number;
  ok: number;
  mismatched: StatusMismatch[];
}

/** Where the API is and how long to wait. */
export interface StatusCheckOptions {
  /** The service's base URL: jobs are read at `{apiUrl}/jobs/{id}`. */
  apiUrl: string;
  /** Sent as `Authorization: Bearer`; none when the API is open. */
  apiKey: string | undefined;
  /** Give up waiting for the remaining jobs after this long. */
  timeoutMs: number;
  /** Most requests in flight at once. */
  concurrency: number;
  /** Wait between two rounds over the jobs not there yet. */
  pollMs?: number;
  /** Longest wait for one answer. */
  requestTimeoutMs?: number;
}

/** The API refused the key or answered in a way that waiting will not fix. */
export class StatusCheckError extends Error {}

const TERMINAL = new Set(['complete', 'error']);

/**
 * Polls `GET /jobs/:id` for every job until each shows its expected status or `timeoutMs` passes.
 * Processing is asynchronous (the webhook is answered once the event is stored), so a job may still be
 * `rendering` or missing for a moment; a job at the other terminal status is final at once, since the
 * status never changes after the first terminal event. A 401 or 403 stops the check with an error.
 */
export async function checkJobStatuses(
  expectations: readonly StatusExpectation[],
  options: StatusCheckOptions,
): Promise<StatusCheckResult> {
  const limit = concurrencyLimit(options.concurrency);
  const base = options.apiUrl.endsWith('/') ? options.apiUrl : `${options.apiUrl}/`;
  const requestTimeoutMs = options.requestTimeoutMs ?? 10_000;
  const headers: Record<string, string> = { accept: 'application/json' };
  if (options.apiKey) headers.authorization = `Bearer ${options.apiKey}`;

  const lastSeen = new Map<string, string>();
  const mismatched: StatusMismatch[] = [];
  let pending = [...expectations];
  const deadline = Date.now() + options.timeoutMs;

  const look = async (job: StatusExpectation): Promise<string> => {
    try {
      const response = await fetch(new URL(`jobs/${encodeURIComponent(job.id)}`, base), {
        headers,
        signal: AbortSignal.timeout(requestTimeoutMs),
      });
      const text = await response.text();
      if (response.status === 401 || response.status === 403) {
        throw new StatusCheckError(
          `GET /jobs/:id answered ${response.status}: set the API key with --api-key or MH_API_KEY (${text.slice(0, 200)})`,
        );
      }
      if (response.status === 404) return 'not found';
      if (response.status !== 200) return `HTTP ${response.status}`;
      const status = (JSON.parse(text) as { status?: unknown }).status;
      return typeof status === 'string' ? status : 'no status in the answer';
    } catch (error) {
      if (error instanceof StatusCheckError) throw error;
      return describeFetchError(error, requestTimeoutMs);
    }
  };

  for (;;) {
    const seen = await Promise.all(pending.map((job) => limit(() => look(job))));
    const stillWaiting: StatusExpectation[] = [];
    pending.forEach((job, index) => {
      const actual = seen[index];
      lastSeen.set(job.id, actual);
      if (actual === job.expected) return;
      if (job.wait && !TERMINAL.has(actual)) stillWaiting.push(job);
      else mismatched.push({ id: job.id, media: job.media, expected: job.expected, actual });
    });
    pending = stillWaiting;
    if (pending.length === 0) break;
    if (Date.now() >= deadline) {
      for (const job of pending) {
        mismatched.push({ id: job.id, media: job.media, expected: job.expected, actual: lastSeen.get(job.id) ?? 'unknown' });
      }
      break;
    }
    await sleep(options.pollMs ?? 250);
  }

  return { checked: expectations.length, ok: expectations.length - mismatched.length, mismatched };
}
