import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import request from 'supertest';
import type { CliIo } from '../src/cli/cli-options.js';
import { main } from '../src/cli/main.js';
import { CLAIM_LEASE_MS, type ReconcileSummary } from '../src/cli/reconcile.command.js';
import { RECONCILE_LEASE_SECONDS } from '../src/reconcile/reconciler.service.js';
import { startFakeMagicHourApi, type FakeMagicHourApi } from '../src/simulator/fake-magic-hour-api.js';
import { eventBody, projectId } from './support/events.js';
import { signedHeaders } from './support/signing.js';
import { eventually, startApp, TEST_API_KEY, TEST_SECRET, type TestApp } from './support/app.js';

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

const baseOf = (t: TestApp) => `http://127.0.0.1:${((t.app.getHttpServer() as Server).address() as AddressInfo).port}`;

describe('mh reconcile against a running service reconciling with a fake of Magic Hour', () => {
  let t: TestApp;
  let api: FakeMagicHourApi;
  let common: string[];
  const jobs = { complete: projectId(), rendering: projectId(), canceled: projectId(), finished: projectId() };

  beforeAll(async () => {
    api = await startFakeMagicHourApi({ token: 'mhk_cli' });
    // An hour before any scheduled check: here only mh reconcile asks.
    t = await startApp({
      MAGIC_HOUR_API_KEY: 'mhk_cli',
      MAGIC_HOUR_API_URL: api.url,
      RECONCILE_AFTER_SECONDS: '3600',
      RECONCILE_INTERVAL_MS: '200',
    });
    common = ['--api-url', baseOf(t), '--api-key', TEST_API_KEY];
    const http = request(t.app.getHttpServer());
    const deliveries = [
      eventBody('video.started', jobs.complete),
      eventBody('image.started', jobs.rendering),
      eventBody('audio.completed', jobs.finished),
    ];
    for (const body of deliveries) expect((await http.post('/webhook').set(signedHeaders(body, TEST_SECRET)).send(body)).status).toBe(200);
    const registered = await http.post('/jobs').set('authorization', `Bearer ${TEST_API_KEY}`).send({ id: jobs.canceled, media: 'video' });
    expect(registered.status).toBe(201);
    await eventually(async () => Number((await t.db.query(`SELECT count(*) AS n FROM jobs`))[0].n) === 4);
    api.setStatus('video', jobs.complete, 'complete');
    api.setStatus('image', jobs.rendering, 'rendering');
    api.setStatus('video', jobs.canceled, 'canceled');
  });
  afterAll(async () => {
    await t?.close();
    await api?.close();
  });

  it("knows how long the service's workers hold a claimed job", () => {
    expect(CLAIM_LEASE_MS).toBe(RECONCILE_LEASE_SECONDS * 1000);
  });

  it('checks every unfinished job once, whatever its schedule, and reports what each check found', async () => {
    const { code, stdout, stderr } = await mh(['reconcile', ...common, '--json']);
    expect(stderr).toBe('');
    const summary = JSON.parse(stdout) as ReconcileSummary;
    expect(code).toBe(0);
    expect(summary).toMatchObject({ ok: true, jobs: 3, checked: 3, statuses: { complete: 1, rendering: 1, canceled: 1 } });
    expect(summary.outcomes).toEqual({ applied: 2, unchanged: 1 });
    const byId = Object.fromEntries(summary.results.map((result) => [result.id, result]));
    expect(byId[jobs.complete]).toMatchObject({ before: 'rendering', after: 'complete', outcome: 'applied', checked: true });
    expect(byId[jobs.canceled]).toMatchObject({ before: 'queued', after: 'canceled', outcome: 'applied', checked: true });
    expect(byId[jobs.rendering]).toMatchObject({ before: 'rendering', after: 'rendering', outcome: 'unchanged', checked: true });
    // One call each, with the service's key; the finished job is not asked about.
    expect(api.requests.map((call) => call.id).sort()).toEqual([jobs.complete, jobs.rendering, jobs.canceled].sort());
    expect(new Set(api.requests.map((call) => call.authorization))).toEqual(new Set(['Bearer mhk_cli']));
    const sources = await t.db.query(`SELECT type, source FROM webhook_events WHERE project_id = $1 ORDER BY received_at`, [jobs.canceled]);
    expect(sources).toEqual([{ type: 'video.canceled', source: 'api' }]);
  });

  it('--job checks one job and prints it; a finished or unknown job exits 1 saying why', async () => {
    api.clearRequests();
    const one = await mh(['reconcile', ...common, '--job', jobs.rendering]);
    expect(one.code).toBe(0);
    expect(one.stdout).toContain('mh reconcile: 1 job asked about');
    expect(one.stdout).toContain("  checked    1 of 1 with Magic Hour's API (outcomes: 1 unchanged)");
    expect(one.stdout).toContain('  now        1 rendering');
    expect(api.requestsFor(jobs.rendering)).toHaveLength(1);

    const finished = await mh(['reconcile', ...common, '--job', jobs.finished, '--wait-ms', '0']);
    expect(finished.code).toBe(1);
    expect(finished.stdout).toContain(`    ${jobs.finished}: 409 Job ${jobs.finished} is complete`);
    const unknown = await mh(['reconcile', ...common, '--job', 'cunknownjob', '--wait-ms', '0']);
    expect(unknown.code).toBe(1);
    expect(unknown.stdout).toContain('    cunknownjob: 404');
    expect(unknown.stdout.trim().endsWith('FAILED')).toBe(true);
    expect(api.requestsFor(jobs.finished)).toEqual([]);
  });
});

describe('mh reconcile against a service with reconciliation off', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('exits 1 with the service reason; a wrong key says so', async () => {
    const id = projectId();
    const body = eventBody('video.started', id);
    expect((await request(t.app.getHttpServer()).post('/webhook').set(signedHeaders(body, TEST_SECRET)).send(body)).status).toBe(200);
    await eventually(async () => Number((await t.db.query(`SELECT count(*) AS n FROM jobs`))[0].n) === 1);
    const off = await mh(['reconcile', '--api-url', baseOf(t), '--api-key', TEST_API_KEY]);
    expect(off.code).toBe(1);
    expect(off.stdout).toContain('failed: the service answered 409: Reconciliation is off: set MAGIC_HOUR_API_KEY');
    const wrongKey = await mh(['reconcile', '--api-url', baseOf(t), '--api-key', 'wrong', '--json']);
    expect(wrongKey.code).toBe(1);
    expect((JSON.parse(wrongKey.stdout) as ReconcileSummary).error).toMatch(/GET \/jobs answered 401: set the API key/);
  });
});
