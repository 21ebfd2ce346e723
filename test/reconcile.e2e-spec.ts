import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Injectable } from '@nestjs/common';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { Readable } from 'node:stream';
import type { CliIo } from '../src/cli/cli-options.js';
import { main } from '../src/cli/main.js';
import { OnMagicHourEvent, type MagicHourEvent } from '../src/handlers/index.js';
import type { Media } from '../src/magic-hour/magic-hour-event.types.js';
import {
  malformedAnswer,
  notFoundAnswer,
  paymentRequiredAnswer,
  projectAnswer,
  rateLimitedAnswer,
  serverErrorAnswer,
  slowAnswer,
  startFakeMagicHourApi,
  unauthorizedAnswer,
  type FakeMagicHourApi,
} from '../src/simulator/fake-magic-hour-api.js';
import { eventBody, projectId } from './support/events.js';
import { parseMetrics, sampleValue } from './support/metrics.js';
import { signedHeaders } from './support/signing.js';
import { eventually, startApp, TEST_API_KEY, TEST_SECRET, testConfig, type TestApp } from './support/app.js';

/** Handler runs per pattern and project, so each test reads only its own. */
const runs = new Map<string, MagicHourEvent[]>();
const runsOf = (pattern: string, id: string) => runs.get(`${pattern}:${id}`) ?? [];
const record = (pattern: string, event: MagicHourEvent) =>
  runs.set(`${pattern}:${event.projectId}`, [...runsOf(pattern, event.projectId), event]);

@Injectable()
class ReconcileWatcher {
  @OnMagicHourEvent('video.completed', 'image.completed')
  completed(event: MagicHourEvent): void {
    record('completed', event);
  }

  @OnMagicHourEvent('*.canceled')
  canceled(event: MagicHourEvent): void {
    record('*.canceled', event);
  }

  @OnMagicHourEvent('video.canceled')
  videoCanceled(event: MagicHourEvent): void {
    record('video.canceled', event);
  }
}

/** Runs `mh` in-process against `t`, as the bin does; captures what it prints. */
async function mh(t: TestApp, argv: string[]) {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    stdout: { write: (chunk: string) => (stdout += chunk) },
    stderr: { write: (chunk: string) => (stderr += chunk) },
    stdin: Readable.from([Buffer.from('')]),
    env: { MH_API_URL: await t.app.getUrl(), MH_API_KEY: TEST_API_KEY },
  };
  const code = await main(argv, io);
  return { code, stdout, stderr };
}

/** Short settings, so that a test sees several reconcile periods in seconds. */
const reconcileEnv = (api: FakeMagicHourApi, extra: Record<string, string> = {}): Record<string, string> => ({
  MAGIC_HOUR_API_KEY: 'mh-test-key',
  MAGIC_HOUR_API_URL: api.url,
  RECONCILE_AFTER_SECONDS: '1',
  RECONCILE_INTERVAL_MS: '200',
  RECONCILE_MAX_PER_SECOND: '50',
  MAGIC_HOUR_API_TIMEOUT_MS: '500',
  ...extra,
});

const handlers = [ReconcileWatcher];

/** A payload `created_at` of now: the fixtures' fixed date may be over the 7 days after which jobs are no longer checked. */
const recent = () => ({ created_at: new Date().toISOString() });

function client(t: TestApp) {
  const http = () => request(t.app.getHttpServer());
  return {
    http,
    get: (path: string) => http().get(path).set('authorization', `Bearer ${TEST_API_KEY}`),
    post: (path: string, body?: object) => {
      const req = http().post(path).set('authorization', `Bearer ${TEST_API_KEY}`);
      return body ? req.send(body) : req;
    },
    webhook: (body: string) => http().post('/webhook').set(signedHeaders(body, TEST_SECRET)).send(body),
    metrics: async () => parseMetrics((await http().get('/metrics')).text),
  };
}

describe('Reconciliation with Magic Hour API (fake API, real Postgres and Redis)', () => {
  let api: FakeMagicHourApi;
  let t: TestApp;
  let c: ReturnType<typeof client>;

  const track = async (media: Media, id: string) => {
    const res = await c.post('/jobs', { id, media });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ id, media, status: 'queued', events: [] });
  };
  const jobOf = async (id: string) => (await c.get(`/jobs/${id}`)).body;
  const statusBecomes = (id: string, status: string, timeoutMs = 15000) =>
    eventually(async () => {
      const job = await jobOf(id);
      return job.status === status && job.events.every((event: { status: string }) => event.status === 'processed') && job;
    }, timeoutMs);

  beforeAll(async () => {
    api = await startFakeMagicHourApi({ token: 'mh-test-key' });
    t = await startApp(reconcileEnv(api), undefined, { handlers });
    c = client(t);
  });
  afterAll(async () => {
    await t?.close();
    await api?.close();
  });

  it('registers a project with POST /jobs as queued, idempotently, and refuses bad bodies with 400', async () => {
    const id = projectId();
    api.setStatus('audio', id, 'rendering');
    await track('audio', id);
    const again = await c.post('/jobs', { id, media: 'audio' });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ id, status: 'queued' });
    const other = await c.post('/jobs', { id, media: 'video' });
    expect(other.status).toBe(409);
    expect(other.body).toEqual({ statusCode: 409, error: 'Conflict', message: expect.stringContaining('audio') });
    expect((await c.post('/jobs', { id: projectId(), media: 'podcast' })).status).toBe(400);
    expect((await c.post('/jobs', { media: 'video' })).body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
    const garbled = await c.post('/jobs').set('content-type', 'application/json').send('{"id":');
    expect(garbled.body).toEqual({ statusCode: 400, error: 'Bad Request', message: 'The body is not valid JSON' });
    expect((await c.http().post('/jobs').send({ id, media: 'audio' })).status).toBe(401);
  });

  it('records a complete project as video.completed from the API; the real webhook later is a duplicate and the handler ran once', async () => {
    const id = projectId();
    api.setStatus('video', id, 'complete');
    await track('video', id);
    const job = await statusBecomes(id, 'complete');
    expect(job.events).toEqual([expect.objectContaining({ type: 'video.completed', status: 'processed', source: 'api' })]);
    expect(job.downloads).toEqual([{ url: `https://videos.magichour.ai/id/${id}/output`, expiresAt: expect.any(String) }]);
    expect(job).toMatchObject({ projectType: 'TEXT_TO_VIDEO', creditsCharged: 120, reconciliation: { lastOutcome: 'applied' } });
    expect(job.details).toMatchObject({ width: 1280, height: 720, fps: 30 });
    await eventually(async () => runsOf('completed', id).length === 1);
    expect(runsOf('completed', id)[0]).toMatchObject({ type: 'video.completed', source: 'api' });

    const late = await c.webhook(eventBody('video.completed', id));
    expect(late.body).toEqual({ received: true, duplicate: true });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(runsOf('completed', id)).toHaveLength(1);
    expect((await jobOf(id)).events).toHaveLength(1);
    // Finished: never asked again.
    const asked = api.requestsFor(id).length;
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(api.requestsFor(id).length).toBe(asked);
  });

  it('records an errored project with its error', async () => {
    const id = projectId();
    api.setStatus('image', id, 'error');
    await track('image', id);
    const job = await statusBecomes(id, 'error');
    expect(job.error).toEqual({ code: 'render_failed', message: 'The render failed' });
    expect(job.events).toEqual([expect.objectContaining({ type: 'image.errored', source: 'api' })]);
  });

  it('turns a canceled project into canceled, runs the *.canceled and video.canceled handlers once, and lists it under ?status=canceled', async () => {
    const id = projectId();
    // A webhook started it; Magic Hour sends nothing when it is canceled.
    expect((await c.webhook(eventBody('video.started', id, recent()))).status).toBe(200);
    api.setStatus('video', id, 'canceled');
    const job = await statusBecomes(id, 'canceled');
    expect(job.events.map((event: { type: string; source: string }) => [event.type, event.source])).toEqual([
      ['video.started', 'webhook'],
      ['video.canceled', 'api'],
    ]);
    expect(job.startedAt).not.toBeNull();
    await eventually(async () => runsOf('*.canceled', id).length === 1 && runsOf('video.canceled', id).length === 1);
    const listed = await c.get('/jobs?status=canceled&limit=100');
    expect(listed.body.items.map((item: { id: string }) => item.id)).toContain(id);
    // A late completed cannot move it: the first terminal state wins.
    expect((await c.webhook(eventBody('video.completed', id, recent()))).body.duplicate).toBe(false);
    await eventually(async () => (await jobOf(id)).events.length === 3);
    expect((await jobOf(id)).status).toBe('canceled');
  });

  it('keeps a canceled webhook (which Magic Hour does not send) as ignored, and the API reading of the same key is still applied', async () => {
    const id = projectId();
    const forged = await c.webhook(eventBody('video.started', id, recent()).replace('"video.started"', '"video.canceled"'));
    expect(forged.body).toEqual({ received: true, duplicate: false, ignored: true });
    expect((await c.webhook(eventBody('video.started', id, recent()))).status).toBe(200);
    api.setStatus('video', id, 'canceled');
    const job = await statusBecomes(id, 'canceled');
    expect(job.events.filter((event: { type: string }) => event.type === 'video.canceled')).toEqual([
      expect.objectContaining({ source: 'api', status: 'processed' }),
    ]);
  });

  it('only moves the next check of a project still rendering, waiting twice as long each time', async () => {
    const id = projectId();
    api.setStatus('video', id, 'rendering');
    await track('video', id);
    await eventually(async () => api.requestsFor(id).length >= 3, 15000);
    const times = api.requestsFor(id).map((request) => request.at);
    const job = await jobOf(id);
    expect(job).toMatchObject({ status: 'queued', events: [], reconciliation: { lastOutcome: 'unchanged', notFoundAt: null } });
    expect(Date.parse(job.reconciliation.nextCheckAt)).toBeGreaterThan(Date.parse(job.reconciliation.lastCheckedAt));
    // After RECONCILE_AFTER_SECONDS (1 s) without news: then 2 s, then 4 s.
    expect(times[1] - times[0]).toBeGreaterThanOrEqual(1900);
    expect(times[2] - times[1]).toBeGreaterThanOrEqual(3900);
  });

  it('leaves jobs created over 7 days ago alone, unless asked with POST /jobs/:id/reconcile', async () => {
    const id = projectId();
    api.setStatus('video', id, 'complete');
    await t.db.query(
      `INSERT INTO jobs (id, media, status, created_at, updated_at) VALUES ($1, 'video', 'rendering', now() - interval '8 days', now() - interval '1 hour')`,
      [id],
    );
    await new Promise((resolve) => setTimeout(resolve, 2000));
    expect(api.requestsFor(id)).toEqual([]);
    expect((await c.post(`/jobs/${id}/reconcile`)).status).toBe(202);
    await statusBecomes(id, 'complete');
    expect(api.requestsFor(id)).toHaveLength(1);
  });

  it('marks a project the API does not know (404) and stops asking; POST /jobs/:id/reconcile asks again', async () => {
    const id = projectId();
    api.script('video', id, notFoundAnswer());
    await track('video', id);
    const job = await eventually(async () => {
      const found = await jobOf(id);
      return found.reconciliation.notFoundAt !== null && found;
    });
    expect(job).toMatchObject({ status: 'queued', reconciliation: { lastOutcome: 'not_found', nextCheckAt: null } });
    await new Promise((resolve) => setTimeout(resolve, 2500));
    expect(api.requestsFor(id)).toHaveLength(1);

    api.setStatus('video', id, 'complete');
    const asked = await c.post(`/jobs/${id}/reconcile`);
    expect(asked.status).toBe(202);
    expect(asked.body).toMatchObject({ id, reconciliation: { notFoundAt: null } });
    await statusBecomes(id, 'complete');
    expect((await c.post(`/jobs/${id}/reconcile`)).status).toBe(409);
    expect((await c.post(`/jobs/${projectId()}/reconcile`)).status).toBe(404);
  });

  it.each([
    ['a 500', () => serverErrorAnswer(500), 'server_error'],
    [
      'an answer slower than MAGIC_HOUR_API_TIMEOUT_MS',
      (media: Media, id: string) => slowAnswer(projectAnswer(media, id, 'complete'), 1500),
      'timeout',
    ],
    ['an answer the SDK rejects', (media: Media, id: string) => malformedAnswer(media, id), 'unreadable'],
  ])('retries after %s and applies the answer that follows', async (_, failure, outcome) => {
    const id = projectId();
    api.script('image', id, failure('image', id), projectAnswer('image', id, 'complete'));
    await track('image', id);
    await eventually(async () => (await jobOf(id)).reconciliation.lastOutcome === outcome || api.requestsFor(id).length > 1);
    await statusBecomes(id, 'complete');
    const statuses = api.requestsFor(id).map((request) => request.answeredStatus);
    expect(statuses.length).toBeGreaterThanOrEqual(2);
    await eventually(async () => runsOf('completed', id).length === 1);
    const metrics = await c.metrics();
    expect(sampleValue(metrics, 'magic_hour_api_calls_total', { outcome })).toBeGreaterThanOrEqual(1);
  });

  it('refreshes the downloads of a job from the API with POST /jobs/:id/refresh-downloads, and says why it cannot', async () => {
    const id = projectId();
    expect((await c.webhook(eventBody('image.completed', id, recent()))).status).toBe(200);
    await statusBecomes(id, 'complete');
    const fresh = [{ url: `https://images.magichour.ai/id/${id}/fresh.png`, expires_at: '2099-01-01T00:00:00.000Z' }];
    api.setStatus('image', id, 'complete', { downloads: fresh });
    const res = await c.post(`/jobs/${id}/refresh-downloads`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ downloads: [{ url: fresh[0].url, expiresAt: '2099-01-01T00:00:00.000Z' }] });
    expect((await jobOf(id)).downloads).toEqual(res.body.downloads);
    expect((await jobOf(id)).status).toBe('complete');

    api.script('image', id, notFoundAnswer());
    expect(await c.post(`/jobs/${id}/refresh-downloads`)).toMatchObject({ status: 502, body: { statusCode: 502, error: 'Bad Gateway' } });
    api.script('image', id, serverErrorAnswer(503));
    expect((await c.post(`/jobs/${id}/refresh-downloads`)).status).toBe(503);
    api.setStatus('image', id, 'rendering');
    expect((await c.post(`/jobs/${id}/refresh-downloads`)).status).toBe(409);
    expect((await c.post(`/jobs/${projectId()}/refresh-downloads`)).status).toBe(404);
    expect((await c.http().post(`/jobs/${id}/refresh-downloads`)).status).toBe(401);
  });

  it('mh reconcile --job checks one job and prints the outcome; mh reconcile makes every unfinished job due now', async () => {
    const id = projectId();
    api.setStatus('video', id, 'rendering');
    await track('video', id);
    const one = await mh(t, ['reconcile', '--job', id, '--json']);
    expect(one).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(one.stdout)).toEqual({ id, status: 'queued', outcome: 'unchanged', checkedAt: expect.any(String) });

    const asked = api.requestsFor(id).length;
    const all = await mh(t, ['reconcile']);
    expect(all.code).toBe(0);
    expect(all.stdout).toMatch(/^\d+ unfinished job\(s\) due a check now/);
    // Due again at once, not after the doubled wait.
    await eventually(async () => api.requestsFor(id).length > asked, 5000);

    const unknown = await mh(t, ['reconcile', '--job', projectId()]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/answered 404/);
  });

  it('counts calls by outcome and gauges jobs without news for over an hour', async () => {
    const id = projectId();
    await t.db.query(
      `INSERT INTO jobs (id, media, status, created_at, updated_at, reconcile_checked_at, reconcile_next_at)
       VALUES ($1, 'video', 'rendering', now() - interval '2 hours', now() - interval '2 hours', now(), now() + interval '1 day')`,
      [id],
    );
    const before = await c.metrics();
    const answered = projectId();
    const unknown = projectId();
    api.setStatus('audio', answered, 'complete');
    api.script('audio', unknown, notFoundAnswer());
    await track('audio', answered);
    await track('audio', unknown);
    await statusBecomes(answered, 'complete');
    await eventually(async () => (await jobOf(unknown)).reconciliation.notFoundAt !== null);
    const metrics = await c.metrics();
    const grew = (outcome: string) =>
      sampleValue(metrics, 'magic_hour_api_calls_total', { outcome })! - sampleValue(before, 'magic_hour_api_calls_total', { outcome })!;
    expect(sampleValue(metrics, 'magic_hour_jobs_without_news')).toBeGreaterThanOrEqual(1);
    expect(grew('answered')).toBeGreaterThanOrEqual(1);
    expect(grew('not_found')).toBe(1);
    expect(sampleValue(metrics, 'magic_hour_reconcile_paused')).toBe(0);
    const health = await c.http().get('/health');
    expect(health.body.details.magicHourApi).toEqual({ status: 'up' });
  });
});

describe('Reconciliation: 429 with Retry-After', () => {
  let api: FakeMagicHourApi;
  let t: TestApp;

  beforeAll(async () => {
    api = await startFakeMagicHourApi();
    t = await startApp(reconcileEnv(api), undefined, { handlers });
  });
  afterAll(async () => {
    await t?.close();
    await api?.close();
  });

  it('asks again no sooner than Retry-After, and no other job is asked meanwhile', async () => {
    const c = client(t);
    const limited = projectId();
    api.script('video', limited, rateLimitedAnswer(3), projectAnswer('video', limited, 'complete'));
    await c.post('/jobs', { id: limited, media: 'video' });
    await eventually(async () => api.requestsFor(limited).length === 1);
    const refusedAt = api.requestsFor(limited)[0].at;
    const other = projectId();
    api.setStatus('audio', other, 'complete');
    await c.post('/jobs', { id: other, media: 'audio' });
    await eventually(async () => (await c.get(`/jobs/${limited}`)).body.status === 'complete', 15000);
    await eventually(async () => (await c.get(`/jobs/${other}`)).body.status === 'complete', 15000);
    expect(api.requestsFor(limited)[1].at - refusedAt).toBeGreaterThanOrEqual(3000);
    const during = api.requests.filter((request) => request.at > refusedAt && request.at < refusedAt + 2900);
    expect(during).toEqual([]);
    expect(sampleValue(await c.metrics(), 'magic_hour_api_calls_total', { outcome: 'rate_limited' })).toBe(1);
  });
});

describe.each([
  [401, unauthorizedAnswer],
  [402, paymentRequiredAnswer],
])('Reconciliation paused by a %i', (httpStatus, refusal) => {
  let api: FakeMagicHourApi;
  let t: TestApp;

  beforeAll(async () => {
    api = await startFakeMagicHourApi({ fallback: refusal() });
    t = await startApp(reconcileEnv(api), undefined, { handlers });
  });
  afterAll(async () => {
    await t?.close();
    await api?.close();
  });

  it('pauses, shows it on /health and /metrics, asks nothing but a probe, and resumes once the API accepts the key', async () => {
    const c = client(t);
    const ids = [projectId(), projectId(), projectId()];
    for (const id of ids) await c.post('/jobs', { id, media: 'video' });
    const health = await eventually(async () => {
      const res = await c.http().get('/health');
      return res.body.details.magicHourApi?.status === 'down' ? res : null;
    });
    expect(health!.status).toBe(200);
    expect(health!.body.status).toBe('degraded');
    expect(health!.body.error.magicHourApi).toMatchObject({
      status: 'down',
      httpStatus,
      message: expect.stringContaining(`HTTP ${httpStatus}`),
    });
    expect(sampleValue(await c.metrics(), 'magic_hour_reconcile_paused')).toBe(1);
    // Only the first call; the next is a probe, a few reconcile periods later (4 s here).
    await new Promise((resolve) => setTimeout(resolve, 2500));
    expect(api.requests).toHaveLength(1);
    for (const id of ids) api.setStatus('video', id, 'complete');
    api.setFallback(notFoundAnswer());
    for (const id of ids) await eventually(async () => (await c.get(`/jobs/${id}`)).body.status === 'complete', 20000);
    expect((await c.http().get('/health')).body.details.magicHourApi).toEqual({ status: 'up' });
    expect(sampleValue(await c.metrics(), 'magic_hour_reconcile_paused')).toBe(0);
    const label = httpStatus === 401 ? 'unauthorized' : 'payment_required';
    expect(sampleValue(await c.metrics(), 'magic_hour_api_calls_total', { outcome: label })).toBeGreaterThanOrEqual(1);
  });
});

describe('Reconciliation off', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp({}, undefined, { handlers });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('answers POST /jobs/:id/reconcile 409 and leaves magicHourApi out of /health', async () => {
    const c = client(t);
    const id = projectId();
    expect((await c.post('/jobs', { id, media: 'image' })).status).toBe(201);
    const res = await c.post(`/jobs/${id}/reconcile`);
    expect(res.status).toBe(409);
    expect(res.body.message).toMatch(/MAGIC_HOUR_API_KEY/);
    const cli = await mh(t, ['reconcile']);
    expect(cli.code).toBe(1);
    expect(cli.stderr).toMatch(/answered 409: Reconciliation is off/);
    expect((await c.post(`/jobs/${id}/refresh-downloads`)).status).toBe(409);
    expect((await c.http().get('/health')).body.details.magicHourApi).toBeUndefined();
  });
});

describe('The download handler with an expired URL', () => {
  let api: FakeMagicHourApi;
  let t: TestApp;
  let files: Server;
  let filesUrl: string;
  let dir: string;

  beforeAll(async () => {
    api = await startFakeMagicHourApi();
    dir = await mkdtemp(join(tmpdir(), 'mh-refresh-'));
    files = createServer((req, res) => {
      if (req.url?.startsWith('/fresh/')) res.end(`bytes of ${req.url}`);
      else res.writeHead(403).end('expired');
    });
    await new Promise<void>((resolve) => files.listen(0, '127.0.0.1', resolve));
    filesUrl = `http://127.0.0.1:${(files.address() as AddressInfo).port}`;
    t = await startApp(reconcileEnv(api, { DOWNLOAD_DIR: dir }), undefined, { handlers });
  });
  afterAll(async () => {
    await t?.close();
    await api?.close();
    await new Promise((resolve) => files?.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  it('stores the output from the fresh URL that Magic Hour API gives, instead of giving up', async () => {
    const c = client(t);
    const id = projectId();
    const stale = [{ url: `${filesUrl}/old/${id}.mp4`, expires_at: '2020-01-01T00:00:00.000Z' }];
    api.setStatus('video', id, 'complete', { downloads: [{ url: `${filesUrl}/fresh/${id}.mp4`, expires_at: '2099-01-01T00:00:00.000Z' }] });
    expect((await c.webhook(eventBody('video.completed', id, { ...recent(), downloads: stale }))).status).toBe(200);
    const job = await eventually(async () => {
      const found = (await c.get(`/jobs/${id}`)).body;
      return found.files?.length === 1 && found;
    });
    expect(job.files[0]).toMatchObject({ url: `${filesUrl}/fresh/${id}.mp4` });
    expect(await readFile(job.files[0].path, 'utf8')).toBe(`bytes of /fresh/${id}.mp4`);
    expect(job.downloads).toEqual([{ url: `${filesUrl}/fresh/${id}.mp4`, expiresAt: '2099-01-01T00:00:00.000Z' }]);
    expect(api.requestsFor(id)).toHaveLength(1);
  });
});

describe('RECONCILE_MAX_PER_SECOND across several workers', () => {
  const WORKERS = 3;
  const MAX_PER_SECOND = 4;
  const JOBS = 40;
  let api: FakeMagicHourApi;
  const apps: TestApp[] = [];

  beforeAll(async () => {
    api = await startFakeMagicHourApi();
    api.setFallback(projectAnswer('video', 'x', 'rendering'));
    const config = testConfig(reconcileEnv(api, { RECONCILE_MAX_PER_SECOND: String(MAX_PER_SECOND), RECONCILE_INTERVAL_MS: '100' }));
    // One API process to register the jobs, then worker processes sharing its database and Redis.
    apps.push(await startApp({}, { ...config, role: 'api' }, { handlers }));
    await apps[0].db.query(
      `INSERT INTO jobs (id, media, status, created_at, updated_at)
       SELECT 'cbudget' || n, 'video', 'rendering', now(), now() - interval '1 minute' FROM generate_series(1, ${JOBS}) AS n`,
    );
    for (let i = 0; i < WORKERS; i += 1) apps.push(await startApp({}, { ...config, role: 'worker' }, { handlers }));
  }, 60000);
  afterAll(async () => {
    for (const app of apps.slice(1).reverse()) await app.close({ keepDatabase: true });
    await apps[0]?.close();
    await api?.close();
  });

  it('is never exceeded in any second, measured where the calls arrive, while every worker calls', async () => {
    await new Promise((resolve) => setTimeout(resolve, 6000));
    const times = api.requests.map((request) => request.at).sort((a, b) => a - b);
    // Busy throughout: the budget, not a lack of work, limits the calls.
    expect(times.length).toBeGreaterThanOrEqual(MAX_PER_SECOND * 4);
    let worst = 0;
    for (let i = 0; i < times.length; i += 1) {
      const inSecond = times.filter((at) => at >= times[i] && at < times[i] + 1000).length;
      worst = Math.max(worst, inSecond);
    }
    expect(worst).toBeLessThanOrEqual(MAX_PER_SECOND);
    // No job asked twice at once: claims are exclusive.
    const byJob = new Map<string, number[]>();
    for (const request of api.requests) byJob.set(request.id!, [...(byJob.get(request.id!) ?? []), request.at]);
    for (const at of byJob.values()) for (let i = 1; i < at.length; i += 1) expect(at[i] - at[i - 1]).toBeGreaterThanOrEqual(1000);
  }, 30000);
});
