import { concurrencyLimit, backoffDelay, postSignedEvent, sleep, type AttemptOutcome, type BackoffPolicy } from './delivery.js';
import type { JobPlan, PlannedEvent } from './lifecycle.js';

/** Where and how Magic Hour's side delivers. */
export interface DeliveryOptions {
  /** The webhook URL. */
  url: string;
  secret: string;
  /** Most HTTP requests in flight at once (a retry waiting out its backoff holds no slot). */
  concurrency: number;
  /** No answer within this is a failed attempt. */
  timeoutMs: number;
  backoff: BackoffPolicy;
  /** Told about every attempt, for `--verbose`. */
  onAttempt?: (report: AttemptReport) => void;
  /** Told just before an event's first copy goes out (to keep a fake of Magic Hour's API in step). */
  onSending?: (plan: JobPlan, event: PlannedEvent) => void;
  /** Told once a job's last event went out; at its turn for a job that sends none. */
  onJobSent?: (plan: JobPlan) => void;
}

/** One attempt at delivering one copy of an event. */
export interface AttemptReport {
  type: string;
  projectId: string;
  /** 1 for the first attempt, 2 for the first retry, ... */
  attempt: number;
  outcome: AttemptOutcome;
}

/** What delivering every planned event came to. */
export interface DeliveryTotals {
  /** Copies of events to deliver: each event once, plus once more for each duplicated one. */
  deliveries: number;
  /** HTTP requests made, retries included. */
  sent: number;
  /** Requests that were retries. */
  retried: number;
  /** Deliveries that were answered 2xx in the end. */
  delivered: number;
  /** Deliveries still failing after the last retry. */
  givenUp: number;
  /** 2xx answers whose JSON body said `"duplicate": true` (what this service answers a repeat). */
  answeredDuplicate: number;
  /** How many attempts got each answer: the HTTP status, or why there was none (`ECONNREFUSED`). */
  answers: Record<string, number>;
  /** Jobs with at least one delivery given up: they cannot be expected to reach their final status. */
  jobsGivenUp: string[];
}

const saysDuplicate = (body: string): boolean => {
  try {
    return (JSON.parse(body) as { duplicate?: unknown } | null)?.duplicate === true;
  } catch {
    return false;
  }
};

/**
 * Plays Magic Hour's side for every planned job at once, within the concurrency limit. A job's events
 * go out one after the other, each as soon as the previous one was answered; the copies of a duplicated
 * event go out together. A copy answered anything but 2xx (or not at all) is retried with exponential
 * backoff while the job's next event goes ahead, as Magic Hour's retries would, until it is delivered
 * or out of retries.
 */
export async function deliverLifecycles(plans: readonly JobPlan[], options: DeliveryOptions): Promise<DeliveryTotals> {
  const limit = concurrencyLimit(options.concurrency);
  const totals: DeliveryTotals = {
    deliveries: 0,
    sent: 0,
    retried: 0,
    delivered: 0,
    givenUp: 0,
    answeredDuplicate: 0,
    answers: {},
    jobsGivenUp: [],
  };

  const attempt = async (plan: JobPlan, event: PlannedEvent, attemptNumber: number): Promise<boolean> => {
    const outcome = await limit(() => postSignedEvent(options.url, event.body, options.secret, options.timeoutMs));
    totals.sent++;
    if (attemptNumber > 1) totals.retried++;
    const answer = outcome.status === null ? outcome.detail : String(outcome.status);
    totals.answers[answer] = (totals.answers[answer] ?? 0) + 1;
    if (outcome.ok && saysDuplicate(outcome.detail)) totals.answeredDuplicate++;
    options.onAttempt?.({ type: event.type, projectId: plan.project.id, attempt: attemptNumber, outcome });
    return outcome.ok;
  };

  const retry = async (plan: JobPlan, event: PlannedEvent): Promise<boolean> => {
    for (let n = 1; n <= options.backoff.maxRetries; n++) {
      await sleep(backoffDelay(n, options.backoff));
      if (await attempt(plan, event, n + 1)) return true;
    }
    return false;
  };

  const deliverJob = async (plan: JobPlan): Promise<void> => {
    const copies: Array<Promise<boolean>> = [];
    for (const event of plan.events) {
      totals.deliveries += event.copies;
      options.onSending?.(plan, event);
      const firsts = await Promise.all(Array.from({ length: event.copies }, () => attempt(plan, event, 1)));
      for (const ok of firsts) copies.push(ok ? Promise.resolve(true) : retry(plan, event));
    }
    options.onJobSent?.(plan);
    const delivered = await Promise.all(copies);
    for (const ok of delivered) {
      if (ok) totals.delivered++;
      else totals.givenUp++;
    }
    if (delivered.includes(false)) totals.jobsGivenUp.push(plan.project.id);
  };

  await Promise.all(plans.map(deliverJob));
  return totals;
}
