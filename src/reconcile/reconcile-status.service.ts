import { withTimeout } from '../common/with-timeout.js';
import { Inject, Injectable } from '@nestjs/common';
import { Gauge } from 'prom-client';
import { APP_CONFIG, type AppConfig } from '../config/app.config.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { ReconcileRepository, type ReconcilePause } from './reconcile.repository.js';

/** A job is "without news" in the metrics once its last news is this old. */
export const WITHOUT_NEWS_SECONDS = 3600;
/** Longest a scrape waits for Postgres to read one gauge. */
const GAUGE_READ_TIMEOUT_MS = 1000;

/** `read`'s value, or `undefined` when it fails or takes over `GAUGE_READ_TIMEOUT_MS`. */
const readWithin = <T>(read: () => Promise<T>): Promise<T | undefined> =>
  withTimeout(read(), GAUGE_READ_TIMEOUT_MS, 'A reconcile gauge').catch(() => undefined);

/** Where reconciliation stands, as `/health` and `/metrics` show it in every role. */
export type ReconcileState = { enabled: false } | { enabled: true; pause: ReconcilePause | null };

/**
 * Reconciliation's state for operators, read from Postgres (the worker that was refused records the
 * pause there), and its gauges: whether it is paused, and how many unfinished jobs have had no news
 * for over an hour. Each gauge is read at scrape time; while Postgres is away or slow, a scrape still
answers, with the gauge's last value.
 */
@Injectable()
export class ReconcileStatusService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly repository: ReconcileRepository,
    metrics: MetricsService,
  ) {
    const enabled = config.reconcile !== null;
    new Gauge({
      name: 'magic_hour_reconcile_paused',
      help: "1 while reconciliation is paused because Magic Hour's API refused the key (401) or the account (402); 0 otherwise, and when it is off",
      registers: [metrics.registry],
      async collect() {
        if (!enabled) return this.set(0);
        const pause = await readWithin(() => repository.currentPause());
        if (pause !== undefined) this.set(pause !== null ? 1 : 0);
      },
    });
    new Gauge({
      name: 'magic_hour_jobs_without_news',
      help: 'Unfinished jobs (queued or rendering) whose last news is over an hour old',
      registers: [metrics.registry],
      async collect() {
        const count = await readWithin(() => repository.countWithoutNews(WITHOUT_NEWS_SECONDS));
        if (count !== undefined) this.set(count);
      },
    });
  }

  /** Whether reconciliation is on, and the pause in force. */
  async state(): Promise<ReconcileState> {
    if (this.config.reconcile === null) return { enabled: false };
    return { enabled: true, pause: await this.repository.currentPause() };
  }
}
