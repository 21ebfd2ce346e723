import { Inject, Injectable, Logger } from '@nestjs/common';
import { ConflictError, JobNotFoundError, UpstreamError, UpstreamUnavailableError } from '../common/domain.errors.js';
import { APP_CONFIG, type AppConfig } from '../config/app.config.js';
import type { JobDownload } from '../database/entities/job.entity.js';
import type { DownloadUrlRefresher } from '../handlers/download-url-refresher.js';
import { JobRepository } from '../jobs/job.repository.js';
import { MagicHourApiClient, outcomeOf } from '../magic-hour/magic-hour-api.client.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { ApiCallBudget } from './api-call-budget.js';
import { ReconcileRepository } from './reconcile.repository.js';
import { probeSeconds } from './reconciler.service.js';

/** The longest a refresh waits for the API budget before answering 503. */
const REFRESH_MAX_WAIT_MS = 5000;

/**
 * Fresh download URLs from Magic Hour's API (stored URLs expire after about a day), for
 * `POST /jobs/:id/refresh-downloads` and the download handler. Each call is one API call within the
 * deployment's budget; a refusal of the key (401, 402) pauses reconciliation as the reconciler's would.
 */
@Injectable()
export class DownloadRefresher implements DownloadUrlRefresher {
  private readonly logger = new Logger(DownloadRefresher.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly jobs: JobRepository,
    private readonly api: MagicHourApiClient,
    private readonly budget: ApiCallBudget,
    private readonly reconcile: ReconcileRepository,
    private readonly metrics: MetricsService,
  ) {}

  get available(): boolean {
    return this.config.reconcile !== null;
  }

  /**
   * @throws ConflictError when reconciliation is off, or the API lists no downloads (the job is not complete)
   * @throws JobNotFoundError
   * @throws UpstreamUnavailableError when the API cannot answer now (budget, refusal, rate limit, errors)
   * @throws UpstreamError when the API does not know the job
   */
  async refresh(jobId: string): Promise<JobDownload[]> {
    if (!this.config.reconcile) throw new ConflictError('Reconciliation is off: set MAGIC_HOUR_API_KEY to read fresh downloads');
    const job = await this.jobs.findById(jobId);
    if (!job) throw new JobNotFoundError(jobId);
    const waitMs = await this.budget.acquire(REFRESH_MAX_WAIT_MS);
    if (waitMs > 0) throw new UpstreamUnavailableError(`The API budget is spent; try again in ${Math.ceil(waitMs / 1000)} s`);
    const reading = await this.api.getProject(job.media, jobId);
    this.metrics.recordApiCall(outcomeOf(reading));
    if (reading.kind === 'refused') {
      if (
        await this.reconcile.pause(reading.httpStatus, `Magic Hour's API answered ${reading.detail}`, probeSeconds(this.config.reconcile))
      ) {
        this.logger.error(`Magic Hour's API refused the key or the account (${reading.detail}): reconciliation is paused`);
      }
      throw new UpstreamUnavailableError(`Magic Hour's API refused the key or the account (${reading.detail})`);
    }
    if (reading.kind === 'not_found') throw new UpstreamError(`Magic Hour's API does not know job ${jobId}`);
    if (reading.kind === 'retry') {
      if (reading.outcome === 'rate_limited' && reading.retryAfterMs) await this.budget.hold(reading.retryAfterMs);
      throw new UpstreamUnavailableError(`Magic Hour's API gave nothing usable (${reading.outcome}); try again later`);
    }
    const downloads = ((reading.payload.downloads ?? []) as Array<{ url: string; expires_at: string | null }>).map((download) => ({
      url: download.url,
      expiresAt: download.expires_at ?? null,
    }));
    if (downloads.length === 0) throw new ConflictError(`Magic Hour lists no downloads for job ${jobId} (status ${reading.status})`);
    await this.jobs.storeDownloads(jobId, downloads);
    return downloads;
  }
}
