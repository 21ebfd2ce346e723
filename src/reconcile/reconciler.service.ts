import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { APP_CONFIG, type AppConfig, type ReconcileConfig } from '../config/app.config.js';
import { MagicHourApiClient, outcomeOf, type ApiProjectStatus, type ApiReading } from '../magic-hour/magic-hour-api.client.js';
import type { JobEventAction } from '../magic-hour/magic-hour-event.types.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { WebhookEventQueue } from '../queue/webhook-event.queue.js';
import { WebhookEventParser } from '../webhook/webhook-event.parser.js';
import { WebhookEventRepository } from '../webhook/webhook-event.repository.js';
import { ApiCallBudget } from './api-call-budget.js';
import { ReconcileRepository, type ClaimedJob } from './reconcile.repository.js';

/** Longest wait between two checks of a job that changes nothing. */
export const RECONCILE_MAX_DELAY_SECONDS = 6 * 60 * 60;
/** How long a claimed job is left to its worker before another may check it (a worker that died). */
export const RECONCILE_LEASE_SECONDS = 300;
/** The longest a worker waits for the budget before giving its job back for later. */
const BUDGET_MAX_WAIT_MS = 30_000;
/** The first retry after a failed call waits at most this (then doubles, capped like the rest). */
const RETRY_BASE_MAX_SECONDS = 30;

/** The event an answer's status becomes; `null`: not finished, nothing to record. */
const ACTION_OF: Record<ApiProjectStatus, JobEventAction | null> = {
  draft: null,
  queued: null,
  rendering: null,
  complete: 'completed',
  error: 'errored',
  canceled: 'canceled',
};

/** What one pass did. */
export interface ReconcilePassSummary {
  /** Jobs asked about. */
  checked: number;
  /** Events recorded from the API's answers (a duplicate of a stored event is not counted). */
  recorded: number;
  /** Whether the pass ended because reconciliation is paused (401, 402). */
  paused: boolean;
}

/** How long to wait between probes while the API refuses the key: a few reconcile periods, at most an hour. */
export const probeSeconds = (settings: ReconcileConfig): number => Math.min(settings.afterSeconds * 4, 3600);

/**
 * The worker's reconciler. Every `RECONCILE_INTERVAL_MS` it claims the unfinished jobs that have had
 * no news for `RECONCILE_AFTER_SECONDS` (or whose next check is due), one at a time, and asks Magic
 * Hour's API about each within the deployment's budget. A finished project becomes the event its
 * webhook would have been, under the same key, stored and queued like a delivery: the same pipeline
 * applies it and runs its handlers once, and a real webhook arriving later is a duplicate. Anything
 * else moves the job's next check: doubling while nothing changes, honouring `Retry-After`.
 */
@Injectable()
export class Reconciler implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(Reconciler.name);
  private readonly settings: ReconcileConfig;
  private readonly stopping = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<ReconcilePassSummary> | undefined;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly repository: ReconcileRepository,
    private readonly api: MagicHourApiClient,
    private readonly budget: ApiCallBudget,
    private readonly events: WebhookEventRepository,
    private readonly parser: WebhookEventParser,
    private readonly queue: WebhookEventQueue,
    private readonly metrics: MetricsService,
  ) {
    if (!config.reconcile) throw new Error('Reconciler needs MAGIC_HOUR_API_KEY');
    this.settings = config.reconcile;
  }

  async onApplicationBootstrap(): Promise<void> {
    const { afterSeconds, maxPerSecond, apiUrl } = this.settings;
    this.logger.log(
      `Reconciliation is on: jobs without news for ${afterSeconds} s are checked with ${apiUrl}, at most ${maxPerSecond} call(s) a second`,
    );
    // A restart may bring a new key: try it at once rather than wait for the next probe.
    if (await this.repository.resume().catch(() => false)) this.logger.log('Reconciliation pause lifted at start; trying the API again');
    this.timer = setInterval(() => void this.tick(), this.settings.intervalMs);
    void this.tick();
  }

  async onModuleDestroy(): Promise<void> {
    this.stopping.abort();
    clearInterval(this.timer);
    await this.running?.catch(() => undefined);
  }

  /** Runs one pass unless one is under way; resolves with the pass under way's summary. */
  tick(): Promise<ReconcilePassSummary> {
    if (!this.running) {
      this.running = this.pass()
        .catch((error: Error) => {
          this.logger.warn(`Reconcile pass failed; will try again: ${error.message}`);
          return { checked: 0, recorded: 0, paused: false };
        })
        .finally(() => (this.running = undefined));
    }
    return this.running;
  }

  private async pass(): Promise<ReconcilePassSummary> {
    const summary: ReconcilePassSummary = { checked: 0, recorded: 0, paused: false };
    while (!this.stopping.signal.aborted) {
      // While paused, one worker at a time makes one probing call now and then.
      const paused = (await this.repository.currentPause()) !== null;
      if (paused && !(await this.repository.claimProbe(probeSeconds(this.settings)))) {
        summary.paused = true;
        break;
      }
      const [job] = await this.repository.claimDue(this.settings.afterSeconds, RECONCILE_LEASE_SECONDS, 1);
      if (!job) break;
      const waitMs = await this.budget.acquire(BUDGET_MAX_WAIT_MS, this.stopping.signal);
      if (waitMs > 0) {
        await this.repository.release(job.id, waitMs / 1000, 'budget_wait');
        break;
      }
      summary.checked += 1;
      const result = await this.check(job);
      if (result === 'recorded') summary.recorded += 1;
      if (result === 'paused') {
        summary.paused = true;
        break;
      }
      if (paused) break;
    }
    return summary;
  }

  /** Asks the API about one claimed job and acts on the answer. */
  private async check(job: ClaimedJob): Promise<'recorded' | 'paused' | 'done'> {
    const reading = await this.api.getProject(job.media, job.id);
    this.metrics.recordApiCall(outcomeOf(reading));
    if (reading.kind === 'refused') {
      await this.repository.release(job.id, 0, outcomeOf(reading));
      if (await this.repository.pause(reading.httpStatus, `Magic Hour's API answered ${reading.detail}`, probeSeconds(this.settings))) {
        this.logger.error(
          `Magic Hour's API refused the key or the account (${reading.detail}): reconciliation is paused; ` +
            `check MAGIC_HOUR_API_KEY and the account; a probe every ${probeSeconds(this.settings)} s resumes it`,
        );
      }
      return 'paused';
    }
    if (await this.repository.resume()) this.logger.log("Magic Hour's API accepts the key again: reconciliation resumed");

    if (reading.kind === 'not_found') {
      await this.repository.markNotFound(job.id);
      this.logger.warn(`Magic Hour's API does not know job ${job.id} (404); it is marked and no longer checked`);
      return 'done';
    }
    if (reading.kind === 'retry') return this.retryLater(job, reading);

    const action = ACTION_OF[reading.status];
    const checks = job.checks + 1;
    if (action === null) {
      await this.repository.finish(job.id, 'unchanged', checks, this.unchangedDelay(checks));
      return 'done';
    }
    const recorded = await this.record(job, action, reading.payload);
    if (recorded === null) {
      return this.retryLater(job, {
        kind: 'retry',
        outcome: 'unreadable',
        detail: 'the answer does not validate as a payload',
        retryAfterMs: null,
      });
    }
    // Recorded before the hand-over, so that whoever sees the job applied also sees why. Due again
    // later only should the event not be applied (the job then is still unfinished).
    await this.repository.finish(job.id, 'applied', checks, this.settings.afterSeconds);
    if (recorded === false) return 'done';
    if (await this.queue.enqueue([{ eventId: recorded, media: job.media }])) {
      await this.events.markEnqueued([recorded]).catch(() => undefined);
    }
    return 'recorded';
  }

  /**
   * Stores the API's reading as the event its webhook would have been; the caller hands it to the
   * queue (the relay does, should Redis not take it, or the process stop first). Returns the new
   * event's id, `false` when its key was stored already, or `null` when the payload does not validate
   * as the webhook's would.
   */
  private async record(job: ClaimedJob, action: JobEventAction, payload: Record<string, unknown>): Promise<string | false | null> {
    const type = `${job.media}.${action}`;
    const parsed = await this.parser.parse(Buffer.from(JSON.stringify({ type, payload })));
    if (parsed.kind === 'invalid' || parsed.projectId !== job.id) {
      this.logger.warn(
        `Magic Hour's answer about job ${job.id} does not validate: ${parsed.kind === 'invalid' ? parsed.errors.join('; ') : 'another id'}`,
      );
      return null;
    }
    const eventId = await this.events.insertFromApi({
      eventKey: `${type}:${job.id}`,
      type,
      media: job.media,
      projectId: job.id,
      payloadJson: parsed.payloadJson,
    });
    if (eventId === null) return false;
    this.logger.log(`Job ${job.id}: recorded ${type} from Magic Hour's API`);
    return eventId;
  }

  private async retryLater(job: ClaimedJob, reading: Extract<ApiReading, { kind: 'retry' }>): Promise<'done'> {
    const checks = job.checks + 1;
    const backoff = Math.min(Math.min(this.settings.afterSeconds, RETRY_BASE_MAX_SECONDS) * 2 ** (checks - 1), RECONCILE_MAX_DELAY_SECONDS);
    const retryAfterSeconds = (reading.retryAfterMs ?? 0) / 1000;
    // Magic Hour asked every caller to wait: no worker of this deployment calls before then.
    if (reading.outcome === 'rate_limited' && reading.retryAfterMs) await this.budget.hold(reading.retryAfterMs);
    await this.repository.finish(job.id, reading.outcome, checks, Math.max(backoff, retryAfterSeconds));
    this.logger.warn(`Job ${job.id}: Magic Hour's API gave nothing usable (${reading.outcome}: ${reading.detail}); asking again later`);
    return 'done';
  }

  /** After the `checks`-th check that changed nothing: twice the wait of the one before, up to the cap. */
  private unchangedDelay(checks: number): number {
    return Math.min(this.settings.afterSeconds * 2 ** checks, RECONCILE_MAX_DELAY_SECONDS);
  }
}
