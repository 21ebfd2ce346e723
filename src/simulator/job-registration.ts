import { concurrencyLimit, describeFetchError, sleep } from './delivery.js';
import { retryAfterMs, StatusCheckError } from './job-status.check.js';
import type { JobPlan } from './lifecycle.js';

/** Where the service is and how to reach it. */
export interface RegistrationOptions {
  /** The service's base URL: jobs are registered at `{apiUrl}/jobs`. */
  apiUrl: string;
  /** Sent as `Authorization: Bearer`; none when the API is open. */
  apiKey: string | undefined;
  /** Most requests in flight at once. */
  concurrency: number;
  /** Longest wait for one answer. */
  requestTimeoutMs?: number;
  /** Tries of one registration answered `429` (over the API's rate limit), each after its `Retry-After`. */
  rateLimitedTries?: number;
}

/** A job `POST /jobs` did not take; `answer` is the HTTP status and body, or why there was none. */
export interface RegistrationFailure {
  id: string;
  media: string;
  answer: string;
}

/** What registering came to. */
export interface RegistrationResult {
  registered: number;
  failed: RegistrationFailure[];
}

/**
 * Registers each planned job with `POST /jobs` (`{"id","media"}`), as a company does right after it
 * creates the project at Magic Hour, so that the service can ask Magic Hour's API about a job even
 * when every webhook about it is lost. A 401 or 403 stops with an error: no other job would fare better.
 */
export async function registerJobs(plans: readonly JobPlan[], options: RegistrationOptions): Promise<RegistrationResult> {
  const limit = concurrencyLimit(options.concurrency);
  const url = new URL('jobs', options.apiUrl.endsWith('/') ? options.apiUrl : `${options.apiUrl}/`);
  const requestTimeoutMs = options.requestTimeoutMs ?? 10_000;
  const headers: Record<string, string> = { accept: 'application/json', 'content-type': 'application/json' };
  if (options.apiKey) headers.authorization = `Bearer ${options.apiKey}`;

  const register = async (plan: JobPlan, tries = options.rateLimitedTries ?? 5): Promise<RegistrationFailure | null> => {
    const { id, media } = plan.project;
    let status: number;
    let text: string;
    try {
      const response = await limit(() =>
        fetch(url, { method: 'POST', headers, body: JSON.stringify({ id, media }), signal: AbortSignal.timeout(requestTimeoutMs) }),
      );
      status = response.status;
      text = await response.text();
      if (status === 429 && tries > 1) {
        await sleep(retryAfterMs(response));
        return register(plan, tries - 1);
      }
    } catch (error) {
      return { id, media, answer: describeFetchError(error, requestTimeoutMs) };
    }
    if (status === 401 || status === 403) {
      throw new StatusCheckError(`POST /jobs answered ${status}: set the API key with --api-key or MH_API_KEY (${text.slice(0, 200)})`);
    }
    return status >= 200 && status < 300 ? null : { id, media, answer: `HTTP ${status} ${text.slice(0, 200)}` };
  };

  const outcomes = await Promise.all(plans.map((plan) => register(plan)));
  const failed = outcomes.filter((outcome): outcome is RegistrationFailure => outcome !== null);
  return { registered: plans.length - failed.length, failed };
}
