import { concurrencyLimit, describeFetchError, sleep } from './delivery.js';

/** A job and the status `GET /jobs/:id` must show for it. */
export interface StatusExpectation {
  id: string;
  media: string;
  expected: 'complete' | 'error' | 'canceled';
  /** Whether to wait for it; a job whose delivery was given up is looked at once, unless the service can ask Magic Hour's API. */
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
  /** Jobs at their status whose history holds an event the service read from Magic Hour's API (`source: "api"`). */
  fromApi: number;
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

/** How long a `429` asks to wait (`Retry-After` in seconds; 1 s when it says nothing readable). */
export function retryAfterMs(response: Response): number {
  const seconds = Number(response.headers.get('retry-after'));
  return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 1000;
}

const TERMINAL = new Set(['complete', 'error', 'canceled']);

/**
 * Polls `GET /jobs/:id` for every job until each shows its expected status or `timeoutMs` passes.
 * Processing is asynchronous (the webhook is answered once the event is stored), so a job may still be
 * `rendering` or missing for a moment; a job at another terminal status is final at once, since the
 * status never changes after the first terminal event. A 429 makes the next round wait its
 * `Retry-After`; a 401 or 403 stops the check with an error.
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
  const fromApi = new Set<string>();
  const mismatched: StatusMismatch[] = [];
  let pending = [...expectations];
  const deadline = Date.now() + options.timeoutMs;
  // The longest wait a rate-limited answer in this round asked for.
  let rateLimitedMs = 0;

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
      if (response.status === 429) rateLimitedMs = Math.max(rateLimitedMs, retryAfterMs(response));
      if (response.status !== 200) return `HTTP ${response.status}`;
      const { status, events } = JSON.parse(text) as { status?: unknown; events?: Array<{ source?: unknown }> };
      if (Array.isArray(events) && events.some((event) => event?.source === 'api')) fromApi.add(job.id);
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
    // Over the API's rate limit (API_RATE_LIMIT), wait as long as it asks, within the deadline.
    await sleep(Math.max(options.pollMs ?? 250, Math.min(rateLimitedMs, deadline - Date.now())));
    rateLimitedMs = 0;
  }

  const reconciled = expectations.filter((job) => lastSeen.get(job.id) === job.expected && fromApi.has(job.id)).length;
  return { checked: expectations.length, ok: expectations.length - mismatched.length, mismatched, fromApi: reconciled };
}
