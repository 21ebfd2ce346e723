import { withTimeout } from '../common/with-timeout.js';
import { TERMINAL_JOB_STATUSES } from '../magic-hour/magic-hour-event.types.js';
import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { rm, rmdir } from 'node:fs/promises';
import { dirname, resolve, sep } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { APP_CONFIG, type AppConfig } from '../config/app.config.js';
import { EVENT_STATUSES, type EventStatus } from '../magic-hour/magic-hour-event.types.js';
import { MetricsService, type RetentionTable } from '../metrics/metrics.service.js';
import {
  RETENTION_BATCH_PAUSE_MS,
  RETENTION_BATCH_SIZE,
  RETENTION_FILE_BATCH_SIZE,
  RETENTION_PAUSE_FACTOR,
  RETENTION_FIRST_PASS_DELAY_MS,
  RETENTION_FLOOR_DAYS,
  SETTLED_EVENT_STATUSES,
  UNRESOLVED_EVENT_STATUSES,
} from './retention.constants.js';
import { RetentionRepository } from './retention.repository.js';

/** What one pass did: whether it ran (another process may hold the lock), rows deleted per table, batch sizes. */
export interface RetentionReport {
  ran: boolean;
  deleted: Record<RetentionTable, number>;
  /** Delete statements run, and the most rows any one of them deleted from its main table. */
  batches: number;
  largestBatch: number;
}

/** How long the oldest-event read of a scrape may take before the gauge keeps its last value. */
const OLDEST_EVENT_READ_TIMEOUT_MS = 1000;

/** Removing one batch's files took longer than its transaction may stay open. */
class SlowRemoval extends Error {
  constructor(budgetMs: number) {
    super(`Removing stored files took over ${budgetMs} ms (DATABASE_STATEMENT_TIMEOUT_MS); this batch's rows are kept`);
  }
}

/** The days actually applied for a configured retention: never under the floor. */
export const effectiveDays = (configured: number): number => Math.max(configured, RETENTION_FLOOR_DAYS);

/**
 * Trims what would otherwise grow for ever, in the worker, every `RETENTION_INTERVAL_SECONDS`:
 * `processed` and `ignored` events after `EVENT_RETENTION_DAYS`, `failed`, `quarantined` and `stale`
 * ones after `UNRESOLVED_RETENTION_DAYS` (each with its handler runs and conflicting redeliveries),
 * finished jobs after `JOB_RETENTION_DAYS` and stored files after `DOWNLOAD_RETENTION_DAYS` when those
 * are set; never anything within `RETENTION_FLOOR_DAYS` of its arrival. One worker at a time (an
 * advisory lock; the others skip their pass), in small batches with a pause between them.
 */
@Injectable()
export class RetentionService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(RetentionService.name);
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<RetentionReport> | undefined;
  private stopped = false;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly repository: RetentionRepository,
    private readonly metrics: MetricsService,
  ) {}

  onApplicationBootstrap(): void {
    const floored = (
      [
        ['EVENT_RETENTION_DAYS', this.config.eventRetentionDays],
        ['UNRESOLVED_RETENTION_DAYS', this.config.unresolvedRetentionDays],
        ['JOB_RETENTION_DAYS', this.config.jobRetentionDays],
      ] as const
    ).filter(([, days]) => days !== null && days < RETENTION_FLOOR_DAYS);
    for (const [name, days] of floored) {
      this.logger.warn(
        `${name}=${days} is under the ${RETENTION_FLOOR_DAYS}-day floor (Magic Hour retries for 24 h); keeping ${RETENTION_FLOOR_DAYS} days`,
      );
    }
    this.metrics.watchOldestEvents(() => this.readOldestEvents());
    const intervalMs = this.config.retentionIntervalSeconds * 1000;
    this.timer = setTimeout(
      () => {
        void this.tick();
        this.timer = setInterval(() => void this.tick(), intervalMs);
      },
      Math.min(intervalMs, RETENTION_FIRST_PASS_DELAY_MS),
    );
  }

  /** Ends the pass under way after its current batch, before the database closes. */
  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer); // the first pass's timeout, or the interval after it
    await this.running?.catch(() => undefined);
  }

  /** Runs one pass unless one is under way in this process (then resolves with that one's report). */
  tick(): Promise<RetentionReport> {
    if (!this.running) {
      this.running = this.pass()
        .catch((error: Error) => {
          this.logger.warn(`Retention pass failed; will try again next interval: ${error.message}`);
          throw error;
        })
        .finally(() => (this.running = undefined));
      this.running.catch(() => undefined);
    }
    return this.running;
  }

  private async pass(): Promise<RetentionReport> {
    const report: RetentionReport = {
      ran: false,
      deleted: { webhook_events: 0, event_handler_runs: 0, webhook_event_conflicts: 0, jobs: 0, stored_files: 0 },
      batches: 0,
      largestBatch: 0,
    };
    if (this.stopped) return report;
    const lock = await this.repository.tryLock();
    if (lock === null) {
      this.logger.debug('Another process is running retention; skipping this pass');
      return report;
    }
    const started = Date.now();
    try {
      report.ran = true;
      for (const [statuses, days] of [
        [SETTLED_EVENT_STATUSES, this.config.eventRetentionDays],
        [UNRESOLVED_EVENT_STATUSES, this.config.unresolvedRetentionDays],
      ] as const) {
        for (const status of statuses) {
          await this.inBatches(report, async () => {
            const deleted = await this.repository.deleteEvents(status, effectiveDays(days), RETENTION_BATCH_SIZE);
            this.count(report, 'event_handler_runs', deleted.handlerRuns);
            this.count(report, 'webhook_event_conflicts', deleted.conflicts);
            return this.count(report, 'webhook_events', deleted.events);
          });
        }
      }
      const jobDays = this.config.jobRetentionDays;
      if (jobDays !== null) {
        for (const status of TERMINAL_JOB_STATUSES) {
          await this.inBatches(report, async () =>
            this.count(report, 'jobs', await this.repository.deleteJobs(status, effectiveDays(jobDays), RETENTION_BATCH_SIZE)),
          );
        }
      }
      // Without DOWNLOAD_DIR there is no directory of this service's to remove files from.
      const { downloadDir, downloadRetentionDays } = this.config;
      if (downloadRetentionDays !== null && downloadDir !== null)
        await this.removeFiles(report, resolve(downloadDir), downloadRetentionDays);
    } finally {
      await lock.release();
    }
    const total = Object.values(report.deleted).reduce((sum, n) => sum + n, 0);
    if (total > 0) {
      const tables = Object.entries(report.deleted)
        .filter(([, n]) => n > 0)
        .map(([table, n]) => `${table} ${n}`)
        .join(', ');
      this.logger.log(`Retention deleted ${total} row(s) in ${Date.now() - started} ms: ${tables}`);
    }
    return report;
  }

  /**
   * Runs `batch` (which deletes up to `size` rows and says how many) until one deletes fewer, pausing
   * between batches (`RETENTION_PAUSE_FACTOR` times as long as the batch took); stops early when the
   * process is stopping.
   */
  private async inBatches(report: RetentionReport, batch: () => Promise<number>, size = RETENTION_BATCH_SIZE): Promise<void> {
    while (!this.stopped) {
      const started = performance.now();
      const deleted = await batch();
      report.batches++;
      report.largestBatch = Math.max(report.largestBatch, deleted);
      if (deleted < size) return;
      await sleep(Math.max(RETENTION_BATCH_PAUSE_MS, RETENTION_PAUSE_FACTOR * (performance.now() - started)));
    }
  }

  private count(report: RetentionReport, table: RetentionTable, rows: number): number {
    report.deleted[table] += rows;
    this.metrics.recordRetentionDeleted(table, rows);
    return rows;
  }

  /**
   * Removes the download handler's files stored over `days` days ago with their rows, a batch in a
   * transaction that deletes the rows, removes their files and commits (a stop before the commit leaves
   * rows, which the next pass takes again). A file stored again meanwhile keeps its newer row and is
   * left alone, and so is a file another row still names. Only files under `root` (`DOWNLOAD_DIR`) are
   * removed; a row naming a path outside it (the directory was moved) is forgotten and its file left
   * alone. A job directory left empty is removed too.
   *
   * A batch whose files take longer to remove than the statement timeout (a slow disk) is rolled back
   * and the pass moves on: Postgres would end the idle transaction at twice that, and its path locks
   * with it. The files already removed stay removed; the next pass forgets their rows.
   */
  private async removeFiles(report: RetentionReport, root: string, days: number): Promise<void> {
    let outside = 0;
    let outsideInBatch = 0; // counted once its batch commits
    const budgetMs = this.config.databaseStatementTimeoutMs;
    const remove = async (paths: string[]): Promise<void> => {
      const started = performance.now();
      outsideInBatch = 0;
      for (const path of paths.map((stored) => resolve(stored))) {
        if (performance.now() - started >= budgetMs) throw new SlowRemoval(budgetMs);
        if (!path.startsWith(root + sep)) {
          outsideInBatch++;
          continue;
        }
        // One file that cannot be removed (permissions) must not stop the pass; its row is forgotten
        // with the others, so the pass does not pick it again.
        await rm(path, { force: true }).catch((error: unknown) =>
          this.logger.warn(`Could not remove ${path}: ${(error as Error).message}`),
        );
        await rmdir(dirname(path)).catch(() => undefined); // only when empty
      }
    };
    try {
      await this.inBatches(
        report,
        async () => {
          const files = await this.repository.expiredFiles(days, RETENTION_FILE_BATCH_SIZE);
          if (files.length > 0) {
            this.count(report, 'stored_files', await this.repository.deleteFiles(files, days, remove));
            outside += outsideInBatch;
          }
          return files.length;
        },
        RETENTION_FILE_BATCH_SIZE,
      );
    } catch (error) {
      if (!(error instanceof SlowRemoval)) throw error;
      this.logger.warn(`${error.message}; the next pass goes on from there`);
    }
    if (outside > 0) this.logger.warn(`Forgot ${outside} stored file(s) outside DOWNLOAD_DIR; the files themselves were left alone`);
  }

  private readOldestEvents(): Promise<ReadonlyArray<{ status: EventStatus; oldest: Date | null }>> {
    return withTimeout(this.repository.oldestEvents(EVENT_STATUSES), OLDEST_EVENT_READ_TIMEOUT_MS, 'Reading the oldest events');
  }
}
