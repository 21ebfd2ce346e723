import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import request from 'supertest';
import { RETENTION_BATCH_SIZE, RETENTION_LOCK_ID } from '../src/retention/retention.constants.js';
import { StoredFileRepository } from '../src/jobs/stored-file.repository.js';
import { RetentionService } from '../src/retention/retention.service.js';
import { RetentionRepository } from '../src/retention/retention.repository.js';
import { APP_CONFIG, type AppConfig } from '../src/config/app.config.js';
import { MetricsService } from '../src/metrics/metrics.service.js';
import { parseMetrics, sampleValue } from './support/metrics.js';
import { eventually, startApp, testConfig, type TestApp } from './support/app.js';

/** One event to seed straight into `webhook_events`, aged in days. */
interface SeedEvent {
  key: string;
  status: string;
  ageDays: number;
  /** Days since it was last processed (a replay); unset: never processed, or when it arrived. */
  processedDaysAgo?: number | null;
}

/** Marked queued just now, so that the relay leaves the received ones alone during the test. */
async function seedEvents(t: TestApp, events: readonly SeedEvent[]): Promise<void> {
  await t.db.query(
    `INSERT INTO webhook_events (event_key, type, media, project_id, status, payload, received_at, processed_at, release_status, enqueued_at)
     SELECT key, 'video.completed', 'video', key, status, '{"id":"x"}',
            now() - make_interval(days => age), now() - make_interval(days => coalesce(processed, age)),
            CASE WHEN status = 'stale' THEN 'received' END, now()
       FROM unnest($1::text[], $2::text[], $3::int[], $4::int[]) AS s(key, status, age, processed)`,
    [events.map((e) => e.key), events.map((e) => e.status), events.map((e) => e.ageDays), events.map((e) => e.processedDaysAgo ?? null)],
  );
}

/** Gives the event of `key` a handler run of `status` and a conflicting redelivery. */
async function seedChildren(t: TestApp, key: string, runStatus = 'succeeded'): Promise<void> {
  await t.db.query(
    `INSERT INTO event_handler_runs (event_id, handler, status) SELECT id, 'Test.handle', $2 FROM webhook_events WHERE event_key = $1`,
    [key, runStatus],
  );
  await t.db.query(
    `INSERT INTO webhook_event_conflicts (event_id, payload, payload_hash) SELECT id, '{"id":"y"}', md5(event_key) FROM webhook_events WHERE event_key = $1`,
    [key],
  );
}

async function seedJob(t: TestApp, id: string, status: string, ageDays: number): Promise<void> {
  await t.db.query(
    `INSERT INTO jobs (id, media, status, created_at, updated_at)
     VALUES ($1, 'video', $2, now() - make_interval(days => $3), now() - make_interval(days => $3))`,
    [id, status, ageDays],
  );
}

const keys = async (t: TestApp, table = 'webhook_events', column = 'event_key'): Promise<string[]> =>
  (await t.db.query<Array<{ k: string }>>(`SELECT ${column} AS k FROM ${table} ORDER BY 1`)).map((row) => row.k);

const childCount = async (t: TestApp, table: string, key: string): Promise<number> =>
  (
    await t.db.query(`SELECT count(*)::int AS n FROM ${table} c JOIN webhook_events e ON e.id = c.event_id WHERE e.event_key = $1`, [key])
  )[0].n;

// Worker role: retention runs in the worker. A long interval, so that only the test's own passes run
// (the first scheduled one comes 30 s after the start).
const WORKER = { APP_ROLE: 'all', RETENTION_INTERVAL_SECONDS: '86400' };

describe('Retention with the defaults (30 days for settled events, 90 for unresolved, jobs and files kept)', () => {
  let t: TestApp;
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mh-retention-'));
    t = await startApp({ ...WORKER, DOWNLOAD_DIR: dir });
  });
  afterAll(async () => {
    await t?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('deletes settled events after 30 days and unresolved ones after 90, with their runs and conflicts; keeps the rest', async () => {
    const events: SeedEvent[] = [];
    for (const status of ['received', 'processed', 'ignored', 'failed', 'quarantined', 'stale']) {
      for (const ageDays of [2, 29, 31, 89, 91]) events.push({ key: `${status}-${ageDays}`, status, ageDays });
    }
    // Replayed yesterday, although it arrived long ago: kept for its own 30 days.
    events.push({ key: 'replayed-40', status: 'processed', ageDays: 40, processedDaysAgo: 1 });
    // Its handler is still to run (pending): kept until it has.
    events.push({ key: 'open-run-40', status: 'processed', ageDays: 40 });
    await seedEvents(t, events);
    await seedChildren(t, 'processed-31');
    await seedChildren(t, 'failed-91', 'dead');
    await seedChildren(t, 'processed-29');
    await seedChildren(t, 'open-run-40', 'pending');
    await seedJob(t, 'job-old-complete', 'complete', 400);
    await seedJob(t, 'job-old-error', 'error', 400);
    // A file the download handler stored a year ago: kept, DOWNLOAD_RETENTION_DAYS being unset.
    const file = join(dir, 'job-old-complete', '0-output.mp4');
    await mkdir(join(dir, 'job-old-complete'));
    await writeFile(file, 'bytes');
    await t.db.query(
      `INSERT INTO stored_files (job_id, url, path, bytes, sha256, stored_at) VALUES ('job-old-complete', 'https://x/o.mp4', $1, 5, 'x', now() - interval '365 days')`,
      [file],
    );

    const report = await t.app.get(RetentionService).tick();

    const expected = events
      .filter(({ status, ageDays, key }) => {
        if (key === 'replayed-40' || key === 'open-run-40' || status === 'received') return true;
        return ['processed', 'ignored'].includes(status) ? ageDays < 30 : ageDays < 90;
      })
      .map((e) => e.key)
      .sort();
    expect(await keys(t)).toEqual(expected);
    // Every status but received lost something; received events are never deleted, however old.
    expect(expected).toEqual(expect.arrayContaining(['received-91', 'processed-29', 'failed-89', 'quarantined-31', 'stale-89']));
    expect(expected).not.toEqual(expect.arrayContaining(['processed-31']));
    expect(report).toMatchObject({
      ran: true,
      deleted: {
        webhook_events: events.length - expected.length,
        event_handler_runs: 2,
        webhook_event_conflicts: 2,
        jobs: 0,
        stored_files: 0,
      },
    });
    expect(await t.db.query(`SELECT count(*)::int AS n FROM event_handler_runs`)).toEqual([{ n: 2 }]);
    expect(await t.db.query(`SELECT count(*)::int AS n FROM webhook_event_conflicts`)).toEqual([{ n: 2 }]);
    expect(await childCount(t, 'event_handler_runs', 'processed-29')).toBe(1);
    expect(await childCount(t, 'webhook_event_conflicts', 'open-run-40')).toBe(1);
    expect(await keys(t, 'jobs', 'id')).toEqual(['job-old-complete', 'job-old-error']);
    expect(await keys(t, 'stored_files', 'path')).toEqual([file]);
    expect((await stat(file)).size).toBe(5);

    // The counters say what went, per table; the gauge how old the oldest event of each status is.
    const scrape = parseMetrics((await request(t.app.getHttpServer()).get('/metrics')).text);
    const deleted = (table: string) => sampleValue(scrape, 'magic_hour_retention_deleted_rows_total', { table });
    expect(deleted('webhook_events')).toBe(report.deleted.webhook_events);
    expect(deleted('event_handler_runs')).toBe(2);
    expect(deleted('webhook_event_conflicts')).toBe(2);
    expect(deleted('jobs')).toBe(0);
    const age = (status: string) => sampleValue(scrape, 'magic_hour_oldest_event_age_seconds', { status });
    expect(age('received')! / 86400).toBeCloseTo(91, 1);
    expect(age('processed')! / 86400).toBeCloseTo(40, 1);
    expect(age('failed')! / 86400).toBeCloseTo(89, 1);
    expect(age('stale')! / 86400).toBeCloseTo(89, 1);

    // A second pass finds nothing more to delete.
    expect((await t.app.get(RetentionService).tick()).deleted.webhook_events).toBe(0);
  });
});

describe('Retention below the floor, of jobs and of stored files', () => {
  let t: TestApp;
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mh-retention-'));
    t = await startApp({
      ...WORKER,
      EVENT_RETENTION_DAYS: '1',
      UNRESOLVED_RETENTION_DAYS: '1',
      JOB_RETENTION_DAYS: '1',
      DOWNLOAD_RETENTION_DAYS: '5',
      DOWNLOAD_DIR: dir,
    });
  });
  afterAll(async () => {
    await t?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('never deletes an event or a job within 3 days of its arrival, whatever is configured', async () => {
    const events: SeedEvent[] = [];
    for (const status of ['processed', 'ignored', 'failed', 'quarantined', 'stale']) {
      for (const ageDays of [1, 2, 4]) events.push({ key: `${status}-${ageDays}`, status, ageDays });
    }
    await seedEvents(t, events);
    for (const [id, status, age] of [
      ['complete-2', 'complete', 2],
      ['complete-4', 'complete', 4],
      ['error-4', 'error', 4],
      ['canceled-2', 'canceled', 2],
      ['canceled-4', 'canceled', 4],
      ['queued-400', 'queued', 400],
      ['rendering-400', 'rendering', 400],
    ] as const) {
      await seedJob(t, id, status, age);
    }

    await t.app.get(RetentionService).tick();

    expect(await keys(t)).toEqual(
      events
        .filter((e) => e.ageDays < 3)
        .map((e) => e.key)
        .sort(),
    );
    // Finished jobs (canceled too) go once JOB_RETENTION_DAYS (floored) passed; unfinished ones stay.
    expect(await keys(t, 'jobs', 'id')).toEqual(['canceled-2', 'complete-2', 'queued-400', 'rendering-400']);
  });

  it('removes files stored over DOWNLOAD_RETENTION_DAYS ago, with their rows and emptied directories', async () => {
    const stored = async (name: string, ageDays: number, root = dir): Promise<string> => {
      const path = join(root, name, '0-output.mp4');
      await mkdir(join(root, name), { recursive: true });
      await writeFile(path, 'bytes');
      await t.db.query(
        `INSERT INTO stored_files (job_id, url, path, bytes, sha256, stored_at)
         VALUES ($1, 'https://x/' || $1, $2, 5, 'x', now() - make_interval(days => $3))`,
        [name, path, ageDays],
      );
      return path;
    };
    const old = await stored('old-job', 6);
    const recent = await stored('recent-job', 4);
    const elsewhere = await mkdtemp(join(tmpdir(), 'mh-elsewhere-'));
    // A row naming a file outside DOWNLOAD_DIR: forgotten, but the file is not this service's to remove.
    const outside = await stored('outside-job', 30, elsewhere);

    try {
      const report = await t.app.get(RetentionService).tick();

      expect(report.deleted.stored_files).toBe(2);
      expect(await keys(t, 'stored_files', 'path')).toEqual([recent]);
      await expect(stat(old)).rejects.toMatchObject({ code: 'ENOENT' });
      await expect(stat(join(dir, 'old-job'))).rejects.toMatchObject({ code: 'ENOENT' });
      expect((await stat(recent)).size).toBe(5);
      expect((await stat(outside)).size).toBe(5);
    } finally {
      await rm(elsewhere, { recursive: true, force: true });
    }
  });

  it('leaves a file that is stored again while it passes: the new file and its row both stay', async () => {
    const path = join(dir, 'restored-job', '0-output.mp4');
    await mkdir(join(dir, 'restored-job'), { recursive: true });
    await writeFile(path, 'old');
    await t.db.query(
      `INSERT INTO stored_files (job_id, url, path, bytes, sha256, stored_at)
       VALUES ('restored-job', 'https://x/restored', $1, 3, 'old', now() - interval '30 days')`,
      [path],
    );
    // The download handler puts a new copy in place and has not recorded it yet when the pass starts.
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    let placed!: () => void;
    const inPlace = new Promise<void>((resolve) => (placed = resolve));
    const storing = t.app
      .get(StoredFileRepository)
      .record({ jobId: 'restored-job', url: 'https://x/restored', path, bytes: 3, sha256: 'new' }, async () => {
        await writeFile(path, 'new');
        placed();
        await gate;
      });
    await inPlace;
    const passing = t.app.get(RetentionService).tick();
    await Promise.race([passing, sleep(500)]);
    open();
    const [report] = await Promise.all([passing, storing]);

    expect(report.deleted.stored_files).toBe(0);
    expect(await readFile(path, 'utf8')).toBe('new');
    expect(
      await t.db.query(`SELECT sha256, stored_at > now() - interval '1 minute' AS recent FROM stored_files WHERE job_id = 'restored-job'`),
    ).toEqual([{ sha256: 'new', recent: true }]);
  });

  it('keeps a file that another row still names: stored again from a fresh URL, it has a row of its own', async () => {
    const path = join(dir, 'shared-job', '0-output.mp4');
    await mkdir(join(dir, 'shared-job'), { recursive: true });
    await writeFile(path, 'fresh');
    await t.db.query(
      `INSERT INTO stored_files (job_id, url, path, bytes, sha256, stored_at)
       VALUES ('shared-job', 'https://x/expired', $1, 5, 'x', now() - interval '30 days'),
              ('shared-job', 'https://x/fresh', $1, 5, 'x', now())`,
      [path],
    );

    const report = await t.app.get(RetentionService).tick();

    expect(report.deleted.stored_files).toBe(1);
    expect(await t.db.query(`SELECT url FROM stored_files WHERE job_id = 'shared-job'`)).toEqual([{ url: 'https://x/fresh' }]);
    expect(await readFile(path, 'utf8')).toBe('fresh');
  });

  it('keeps the rows of files it could not remove within the statement timeout, for the next pass', async () => {
    const paths: string[] = [];
    for (const name of ['slow-a', 'slow-b']) {
      const path = join(dir, name, '0-output.mp4');
      await mkdir(join(dir, name), { recursive: true });
      await writeFile(path, 'bytes');
      await t.db.query(
        `INSERT INTO stored_files (job_id, url, path, bytes, sha256, stored_at) VALUES ($1, $2, $3, 5, 'x', now() - interval '30 days')`,
        [name, `https://x/${name}`, path],
      );
      paths.push(path);
    }
    // A pass whose transaction may stay open no time at all, as on a disk too slow for the timeout.
    const config = t.app.get<AppConfig>(APP_CONFIG);
    const hurried = new RetentionService(
      { ...config, databaseStatementTimeoutMs: 0 },
      t.app.get(RetentionRepository),
      t.app.get(MetricsService),
    );

    const report = await hurried.tick();

    expect(report.ran).toBe(true);
    expect(report.deleted.stored_files).toBe(0);
    expect(await keys(t, 'stored_files', 'job_id')).toEqual(expect.arrayContaining(['slow-a', 'slow-b']));
    for (const path of paths) expect((await stat(path)).size).toBe(5);

    const next = await t.app.get(RetentionService).tick();
    expect(next.deleted.stored_files).toBe(2);
    for (const path of paths) await expect(stat(path)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('goes on past a file it cannot remove: the file stays on disk, its row is forgotten', async () => {
    // A directory where the file should be: `rm` without `recursive` refuses it, even for root.
    const path = join(dir, 'stuck-job', '0-output.mp4');
    await mkdir(join(path, 'inside'), { recursive: true });
    await t.db.query(
      `INSERT INTO stored_files (job_id, url, path, bytes, sha256, stored_at)
       VALUES ('stuck-job', 'https://x/stuck', $1, 5, 'x', now() - interval '30 days')`,
      [path],
    );

    const report = await t.app.get(RetentionService).tick();

    expect(report.ran).toBe(true);
    expect(report.deleted.stored_files).toBe(1);
    expect(await t.db.query(`SELECT 1 FROM stored_files WHERE job_id = 'stuck-job'`)).toEqual([]);
    expect((await stat(path)).isDirectory()).toBe(true);
  });
});

describe('Retention, one worker at a time and in batches', () => {
  let a: TestApp;
  let b: TestApp | undefined;
  beforeAll(async () => {
    a = await startApp(WORKER);
  });
  afterEach(async () => {
    await a.db.query(`DELETE FROM webhook_events`);
  });
  afterAll(async () => {
    await b?.close({ keepDatabase: true });
    await a?.close();
  });

  const seedOld = (count: number) =>
    a.db.query(
      `INSERT INTO webhook_events (event_key, type, media, project_id, status, payload, received_at, processed_at)
       SELECT 'old-' || i, 'video.completed', 'video', 'p' || i, 'processed', '{}', now() - interval '40 days', now() - interval '40 days'
         FROM generate_series(1, $1) AS i`,
      [count],
    );
  const count = async () => (await a.db.query(`SELECT count(*)::int AS n FROM webhook_events`))[0].n as number;

  it('deletes in batches of at most RETENTION_BATCH_SIZE rows', async () => {
    const total = 2 * RETENTION_BATCH_SIZE + RETENTION_BATCH_SIZE / 2;
    await seedOld(total);
    const report = await a.app.get(RetentionService).tick();
    expect(report.deleted.webhook_events).toBe(total);
    expect(report.largestBatch).toBe(RETENTION_BATCH_SIZE);
    // Three statements for the processed events, one (empty) for each of the other four statuses.
    expect(report.batches).toBe(3 + 4);
    expect(await count()).toBe(0);
  });

  it('skips its pass while another process holds the retention lock', async () => {
    await seedOld(10);
    const holder = a.db.createQueryRunner();
    await holder.connect();
    try {
      await holder.query('SELECT pg_advisory_lock($1)', [RETENTION_LOCK_ID]);
      const skipped = await a.app.get(RetentionService).tick();
      expect(skipped).toMatchObject({ ran: false, deleted: { webhook_events: 0 } });
      expect(await count()).toBe(10);
      await holder.query('SELECT pg_advisory_unlock($1)', [RETENTION_LOCK_ID]);
    } finally {
      await holder.release();
    }
    expect(await a.app.get(RetentionService).tick()).toMatchObject({ ran: true, deleted: { webhook_events: 10 } });
  });

  it('runs one of two workers passes that start together', async () => {
    b = await startApp({}, { ...a.config, role: 'worker' });
    await seedOld(RETENTION_BATCH_SIZE * 3);
    const reports = await Promise.all([a.app.get(RetentionService).tick(), b.app.get(RetentionService).tick()]);
    expect(reports.filter((r) => r.ran)).toHaveLength(1);
    expect(reports[0].deleted.webhook_events + reports[1].deleted.webhook_events).toBe(RETENTION_BATCH_SIZE * 3);
    expect(await count()).toBe(0);
  });
});

describe('Retention on its schedule', () => {
  let t: TestApp;
  afterAll(async () => {
    await t?.close();
  });

  it('runs by itself every RETENTION_INTERVAL_SECONDS, in the worker', async () => {
    const config = testConfig({ APP_ROLE: 'worker', RETENTION_INTERVAL_SECONDS: '1' });
    t = await startApp({}, config);
    await seedEvents(t, [{ key: 'old', status: 'processed', ageDays: 31 }]);
    await eventually(async () => (await keys(t)).length === 0, 10_000);
    const scrape = parseMetrics((await request(t.app.getHttpServer()).get('/metrics')).text);
    expect(sampleValue(scrape, 'magic_hour_retention_deleted_rows_total', { table: 'webhook_events' })).toBe(1);
  });
});
