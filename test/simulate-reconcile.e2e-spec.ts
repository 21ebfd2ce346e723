import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import type { CliIo } from '../src/cli/cli-options.js';
import { main } from '../src/cli/main.js';
import type { SimulationSummary } from '../src/cli/simulate.command.js';
import { freePort, startApp, TEST_API_KEY, TEST_SECRET, type TestApp } from './support/app.js';

/** The key the service sends Magic Hour's API; the fake refuses any other. */
const MAGIC_HOUR_API_KEY = 'mhk_simulation';
/** The deployment's API budget, as the service is configured here. */
const MAX_PER_SECOND = 40;

/** Runs `mh` in-process, as the bin does; captures what it prints. */
async function mh(argv: string[]) {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    stdout: { write: (chunk: string) => (stdout += chunk) },
    stderr: { write: (chunk: string) => (stderr += chunk) },
    stdin: Readable.from([]),
    env: {},
  };
  const code = await main(argv, io);
  return { code, stdout, stderr };
}

describe('mh simulate with lost and canceled jobs, against a service reconciling with the fake API', () => {
  let t: TestApp;
  let fakeApiPort: number;
  let common: string[];
  const count = async (sql: string) => Number((await t.db.query(sql))[0].n);

  beforeAll(async () => {
    // The fake listens only while a simulation runs; the service is told where it will be.
    fakeApiPort = await freePort();
    t = await startApp({
      MAGIC_HOUR_API_KEY,
      MAGIC_HOUR_API_URL: `http://127.0.0.1:${fakeApiPort}`,
      RECONCILE_AFTER_SECONDS: '1',
      RECONCILE_INTERVAL_MS: '200',
      RECONCILE_MAX_PER_SECOND: String(MAX_PER_SECOND),
      MAGIC_HOUR_API_TIMEOUT_MS: '2000',
      // The run registers and then polls 200 jobs: well over the default 600 requests a minute.
      API_RATE_LIMIT: '100000',
    });
    const base = `http://127.0.0.1:${(t.app.getHttpServer().address() as AddressInfo).port}`;
    common = ['--url', `${base}/webhook`, '--secret', TEST_SECRET, '--api-url', base, '--api-key', TEST_API_KEY];
  });
  afterAll(async () => {
    await t?.close();
  });

  it('--jobs 200 --lose 0.2 --cancel 0.1 ends with every job at its true status, exit 0', async () => {
    const { code, stdout, stderr } = await mh([
      'simulate',
      ...common,
      ...['--jobs', '200', '--lose', '0.2', '--cancel', '0.1', '--concurrency', '16', '--seed', '20261206'],
      ...['--fake-api-port', String(fakeApiPort), '--fake-api-key', MAGIC_HOUR_API_KEY, '--json'],
    ]);
    expect(stderr).toBe('');
    const summary = JSON.parse(stdout) as SimulationSummary;
    expect(summary.check).toMatchObject({ checked: 200, ok: 200, mismatched: [] });
    expect(code).toBe(0);
    expect(summary.ok).toBe(true);

    const { plan } = summary;
    expect(plan.lost).toBeGreaterThan(20);
    expect(plan.canceled).toBeGreaterThan(10);
    expect(plan.complete + plan.error + plan.canceled).toBe(200);
    expect(summary.registration).toEqual({ registered: 200, failed: [] });
    // Lost and canceled jobs can only have learned their status from the API.
    expect(summary.check!.fromApi).toBeGreaterThanOrEqual(Math.max(plan.lost, plan.canceled));
    // The service sent its key (the fake answers anything else 401), asked only about projects it
    // registered (else 404), and kept within its budget.
    expect(Object.keys(summary.fakeApi!.answers)).toEqual(['200']);
    expect(summary.fakeApi!.requests).toBeGreaterThanOrEqual(summary.check!.fromApi);
    expect(summary.fakeApi!.peakPerSecond).toBeLessThanOrEqual(MAX_PER_SECOND);

    // What the service stored says the same, seen from its database.
    expect(await count(`SELECT count(*) AS n FROM jobs`)).toBe(200);
    expect(await count(`SELECT count(*) AS n FROM jobs WHERE status = 'complete'`)).toBe(plan.complete);
    expect(await count(`SELECT count(*) AS n FROM jobs WHERE status = 'error'`)).toBe(plan.error);
    expect(await count(`SELECT count(*) AS n FROM jobs WHERE status = 'canceled'`)).toBe(plan.canceled);
    expect(await count(`SELECT count(*) AS n FROM webhook_events WHERE type LIKE '%.canceled' AND source = 'api'`)).toBe(plan.canceled);
    // One final event per job, whether a webhook brought it or the API, and every event processed.
    expect(await count(`SELECT count(*) AS n FROM webhook_events WHERE type ~ '[.](completed|errored|canceled)$'`)).toBe(200);
    expect(await count(`SELECT count(*) AS n FROM webhook_events WHERE status <> 'processed'`)).toBe(0);
    // Every job but the lost ones had its started webhook (none is skipped here); the lost ones none.
    const withoutWebhook = `SELECT j.id FROM jobs j WHERE NOT EXISTS (SELECT 1 FROM webhook_events e WHERE e.project_id = j.id AND e.source = 'webhook')`;
    expect(await count(`SELECT count(*) AS n FROM (${withoutWebhook}) lost`)).toBe(plan.lost);
    const fromApi = `SELECT DISTINCT project_id AS id FROM webhook_events WHERE source = 'api'`;
    expect(await count(`SELECT count(*) AS n FROM (${fromApi}) api`)).toBe(summary.check!.fromApi);
    expect(await count(`SELECT count(*) AS n FROM (${withoutWebhook} EXCEPT ${fromApi}) missed`)).toBe(0);
  }, 120_000);

  it('exits 1, naming each job that is wrong, when the service is not pointed at the fake', async () => {
    const elsewhere = await freePort();
    const { code, stdout } = await mh([
      'simulate',
      ...common,
      ...['--jobs', '3', '--lose', '1', '--failure-rate', '0', '--fake-api-port', String(elsewhere), '--check-timeout-ms', '3000'],
    ]);
    expect(code).toBe(1);
    expect(stdout).toContain('  registered 3 of 3 jobs with POST /jobs');
    expect(stdout).toContain(`  fake API   http://127.0.0.1:${elsewhere} was asked 0 times (answers: none)`);
    expect(stdout).toContain('  check      0 of 3 jobs reached their final status');
    expect(stdout.match(/: expected complete, got queued/g)).toHaveLength(3);
    expect(stdout.trim().endsWith('FAILED')).toBe(true);
  }, 60_000);
});
