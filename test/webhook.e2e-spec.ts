import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Server } from 'node:http';
import request from 'supertest';
import { ALL_TYPES, eventBody, projectId } from './support/events.js';
import { signedHeaders } from './support/signing.js';
import { eventually, startApp, TEST_API_KEY, TEST_SECRET, type TestApp } from './support/app.js';

const ROTATED_SECRET = 'whsec_test_new';

describe('POST /webhook (signed, against real Postgres and Redis)', () => {
  let t: TestApp;
  const http = () => request(t.app.getHttpServer());

  const deliver = (body: string, headers: Record<string, string> = signedHeaders(body, TEST_SECRET)) =>
    http().post('/webhook').set(headers).send(body);

  const job = (id: string) => http().get(`/jobs/${id}`).set('authorization', `Bearer ${TEST_API_KEY}`);

  const rows = (sql: string, params: unknown[] = []) => t.db.query<Array<Record<string, unknown>>>(sql, params);

  beforeAll(async () => {
    t = await startApp({ MAGIC_HOUR_WEBHOOK_SECRET: `${TEST_SECRET}, ${ROTATED_SECRET}` });
  });
  afterAll(async () => {
    await t?.close();
  });

  it.each(ALL_TYPES)('takes %s end to end to GET /jobs/:id', async (type) => {
    const id = projectId();
    const [media, action] = type.split('.');
    const answer = await deliver(eventBody(type, id));
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ received: true, duplicate: false });

    const expected = { started: 'rendering', completed: 'complete', errored: 'error' }[action]!;
    const found = await eventually(async () => {
      const res = await job(id);
      return res.status === 200 && res.body.events[0]?.status === 'processed' ? res.body : null;
    });
    expect(found).toMatchObject({ id, media, status: expected, name: `${media} test project` });
    expect(found.events).toEqual([
      { type, status: 'processed', receivedAt: expect.any(String), processedAt: expect.any(String), source: 'webhook' },
    ]);
    if (action === 'completed') {
      expect(found.downloads).toEqual([{ url: `https://${media}s.magichour.ai/id/${id}/output`, expiresAt: '2026-11-28T10:00:00.000Z' }]);
      expect(found.creditsCharged).toBe(120);
      expect(found.completedAt).not.toBeNull();
    }
    if (action === 'errored') expect(found.error).toEqual({ code: 'render_failed', message: 'The render failed' });
    if (media === 'video') expect(found.details).toEqual({ width: 1280, height: 720, fps: 30, startSeconds: 0, endSeconds: 5 });
    if (media === 'image') expect(found.details).toEqual({ imageCount: 1 });
  });

  it('is an ordinary Nest route: helmet, the request id and the exception filter apply to it as to every route', async () => {
    const stored = await deliver(eventBody('video.started', projectId()));
    const refused = await deliver(eventBody('video.started', projectId()), signedHeaders('{}', TEST_SECRET));
    for (const answer of [stored, refused]) {
      // helmet's headers, as on GET /health
      expect(answer.headers['content-security-policy']).toContain("default-src 'self'");
      expect(answer.headers['x-content-type-options']).toBe('nosniff');
      expect(answer.headers['x-powered-by']).toBeUndefined();
      expect(answer.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    }
    expect(refused.status).toBe(401);
    expect(refused.body).toEqual({
      statusCode: 401,
      error: 'Unauthorized',
      message: 'Invalid webhook signature: signature does not match',
    });
  });

  it("is served by a server that builds requests and responses on Express's prototypes (no swap per delivery)", async () => {
    const express = t.app.getHttpAdapter().getInstance() as { request: object; response: object };
    const built: Array<[object, object]> = [];
    const record = (request: object, response: object) => built.push([Object.getPrototypeOf(request), Object.getPrototypeOf(response)]);
    const server = t.app.getHttpServer() as Server;
    server.prependListener('request', record);
    try {
      expect((await deliver(eventBody('image.started', projectId()))).status).toBe(200);
    } finally {
      server.removeListener('request', record);
    }
    expect(built).toEqual([[express.request, express.response]]);
  });

  it("comes first in Express's router: intake's middleware and route before every other module's", () => {
    // Every delivery walks the router's layers in order, testing each one's path until its own.
    const layers = (t.app.getHttpAdapter().getInstance() as { router: { stack: Array<{ route?: { path: string } }> } }).router.stack;
    const paths = layers.map((layer) => layer.route?.path);
    const webhook = paths.flatMap((path, index) => (path === '/webhook' ? [index] : []));
    // Its two middleware (the delivery log, the body) and its route.
    expect(webhook).toHaveLength(3);
    const others = ['/admin{/*path}', '/jobs', '/jobs/:id', '/events', '/metrics', '/admin/login', '/health', '/health/live'];
    for (const path of others) expect(paths.indexOf(path)).toBeGreaterThan(-1);
    expect(webhook[1]).toBeLessThan(paths.indexOf('/admin{/*path}'));
    // Routes come after every middleware (a path's last layer is its route).
    for (const path of others.slice(1)) expect(webhook[2]).toBeLessThan(paths.lastIndexOf(path));
  });

  it('stores and applies an event delivered twice in a row once', async () => {
    const id = projectId();
    const body = eventBody('video.completed', id);
    const first = await deliver(body);
    const second = await deliver(body);
    expect(first.body).toEqual({ received: true, duplicate: false });
    expect(second.body).toEqual({ received: true, duplicate: true });
    await eventually(async () => (await job(id)).body.events?.[0]?.status === 'processed');
    const stored = await rows('SELECT status, attempts FROM webhook_events WHERE project_id = $1', [id]);
    expect(stored).toEqual([{ status: 'processed', attempts: 1 }]);
  });

  it('stores and applies an event delivered 20 times at once exactly once', async () => {
    const id = projectId();
    const body = eventBody('image.completed', id);
    const answers = await Promise.all(Array.from({ length: 20 }, () => deliver(body)));
    expect(answers.map((a) => a.status)).toEqual(Array(20).fill(200));
    expect(answers.filter((a) => a.body.duplicate === false)).toHaveLength(1);
    expect(answers.filter((a) => a.body.duplicate === true)).toHaveLength(19);
    await eventually(async () => (await job(id)).body.events?.[0]?.status === 'processed');
    const stored = await rows('SELECT status, attempts FROM webhook_events WHERE project_id = $1', [id]);
    expect(stored).toEqual([{ status: 'processed', attempts: 1 }]);
  });

  it('keeps a job complete when completed arrives before started, and fills startedAt', async () => {
    const id = projectId();
    expect((await deliver(eventBody('video.completed', id))).status).toBe(200);
    await eventually(async () => (await job(id)).body.status === 'complete');
    expect((await deliver(eventBody('video.started', id))).status).toBe(200);
    const found = await eventually(async () => {
      const body = (await job(id)).body;
      return body.events?.length === 2 && body.events.every((e: { status: string }) => e.status === 'processed') ? body : null;
    });
    expect(found.status).toBe('complete');
    expect(found.startedAt).not.toBeNull();
    expect(found.downloads).toHaveLength(1);
    expect(found.events.map((e: { type: string }) => e.type)).toEqual(['video.completed', 'video.started']);
  });

  it('lets the first terminal event win when errored follows completed', async () => {
    const id = projectId();
    await deliver(eventBody('audio.completed', id));
    await eventually(async () => (await job(id)).body.status === 'complete');
    await deliver(eventBody('audio.errored', id));
    const found = await eventually(async () => {
      const body = (await job(id)).body;
      return body.events?.length === 2 && body.events[1].status === 'processed' ? body : null;
    });
    expect(found).toMatchObject({ status: 'complete', error: null });
    expect(found.erroredAt).not.toBeNull();
  });

  it('accepts the second of two configured secrets (rotation)', async () => {
    const id = projectId();
    const body = eventBody('video.started', id);
    const answer = await deliver(body, signedHeaders(body, ROTATED_SECRET));
    expect(answer.status).toBe(200);
    expect(await rows('SELECT type FROM webhook_events WHERE project_id = $1', [id])).toEqual([{ type: 'video.started' }]);
  });

  // A right signature outside the tolerance is refused too, but recorded: see redeliveries.e2e-spec.ts.
  it.each([
    ['a wrong secret', (body: string) => signedHeaders(body, 'not-the-secret')],
    ['a wrong secret and a stale timestamp', (body: string) => signedHeaders(body, 'not-the-secret', Math.floor(Date.now() / 1000) - 301)],
    ['no signature', (body: string) => ({ ...signedHeaders(body, TEST_SECRET), 'magic-hour-event-signature': '' })],
    ['a non-numeric timestamp', (body: string) => ({ ...signedHeaders(body, TEST_SECRET), 'magic-hour-event-timestamp': 'yesterday' })],
  ])('refuses %s with 401 and stores nothing', async (_, headers) => {
    const id = projectId();
    const body = eventBody('video.completed', id);
    const answer = await deliver(body, headers(body));
    expect(answer.status).toBe(401);
    expect(answer.body).toMatchObject({ statusCode: 401, error: 'Unauthorized', message: expect.stringMatching(/signature/) });
    expect(answer.text).not.toMatch(/at .*\.(ts|js):\d+/);
    expect(await rows('SELECT 1 FROM webhook_events WHERE project_id = $1', [id])).toEqual([]);
  });

  it('refuses a body changed after signing', async () => {
    const id = projectId();
    const body = eventBody('video.completed', id);
    const answer = await deliver(body.replace('"status":"complete"', '"status": "complete"'), signedHeaders(body, TEST_SECRET));
    expect(answer.status).toBe(401);
  });

  it('stores a well-formed event of an unknown type as ignored, answering 200', async () => {
    const id = projectId();
    const body = JSON.stringify({ type: 'video.canceled', payload: { id, status: 'canceled' } });
    const answer = await deliver(body);
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ received: true, duplicate: false, ignored: true });
    expect(await rows('SELECT status, media, event_key FROM webhook_events WHERE project_id = $1', [id])).toEqual([
      { status: 'ignored', media: 'video', event_key: `video.canceled:${id}` },
    ]);
    expect((await job(id)).status).toBe(404);
  });

  it('quarantines signed garbage, keeping the body and the reason', async () => {
    const body = 'this is not JSON at all';
    const answer = await deliver(body);
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ received: true, duplicate: false, quarantined: true });
    const stored = await rows(`SELECT status, payload, last_error, event_key FROM webhook_events WHERE payload = to_jsonb($1::text)`, [
      body,
    ]);
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({ status: 'quarantined', payload: body, last_error: 'body is not valid JSON' });
    expect(stored[0].event_key).toMatch(/^quarantine:[0-9a-f]{64}$/);

    const again = await deliver(body);
    expect(again.body).toEqual({ received: true, duplicate: true });
  });

  it('quarantines a signed event whose payload is invalid, keyed by type and id', async () => {
    const id = projectId();
    const body = JSON.stringify({ type: 'video.completed', payload: { id, downloads: [{ url: 'ftp://nope' }] } });
    const answer = await deliver(body);
    expect(answer.body).toEqual({ received: true, duplicate: false, quarantined: true });
    const [stored] = await rows('SELECT status, event_key, last_error FROM webhook_events WHERE project_id = $1', [id]);
    expect(stored).toMatchObject({ status: 'quarantined', event_key: `video.completed:${id}` });
    expect(stored.last_error).toMatch(/payload\.downloads\.0\.url/);
    expect((await job(id)).status).toBe(404);
  });

  it('answers 413 with a JSON error for a body over the limit, before reading it all', async () => {
    const body = JSON.stringify({ type: 'video.completed', payload: { id: projectId(), name: 'x'.repeat(300 * 1024) } });
    const answer = await deliver(body);
    expect(answer.status).toBe(413);
    expect(answer.body).toMatchObject({ statusCode: 413, error: 'Payload Too Large' });
  });

  it('refuses a compressed body with 415 (the signature covers the bytes as sent)', async () => {
    const body = eventBody('video.started', projectId());
    const answer = await deliver(body, { ...signedHeaders(body, TEST_SECRET), 'content-encoding': 'gzip' });
    expect(answer.status).toBe(415);
    expect(answer.body).toMatchObject({ statusCode: 415, error: 'Unsupported Media Type' });
  });

  it('serves /webhook/ and /webhook?x=1 too, and leaves other methods to the router (404 JSON)', async () => {
    for (const path of ['/webhook/', '/webhook?source=magic-hour']) {
      const id = projectId();
      const body = eventBody('audio.started', id);
      expect((await http().post(path).set(signedHeaders(body, TEST_SECRET)).send(body)).status).toBe(200);
    }
    const get = await http().get('/webhook');
    expect(get.status).toBe(404);
    expect(get.body).toMatchObject({ statusCode: 404, error: 'Not Found' });
  });

  it('quarantines a signed body nested too deep to handle, instead of answering 500', async () => {
    const depth = 20_000;
    const body = `{"type":"video.completed","payload":{"id":"cdeep","x":${'['.repeat(depth)}${']'.repeat(depth)}}}`;
    const answer = await deliver(body);
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ received: true, duplicate: false, quarantined: true });
    const [row] = await rows(
      `SELECT status, event_key, jsonb_typeof(payload) AS kind FROM webhook_events WHERE event_key = 'video.completed:cdeep'`,
    );
    expect(row).toEqual({ status: 'quarantined', event_key: 'video.completed:cdeep', kind: 'string' });
  });

  it('treats header names case-insensitively', async () => {
    const id = projectId();
    const body = eventBody('image.started', id);
    const headers = Object.fromEntries(Object.entries(signedHeaders(body, TEST_SECRET)).map(([k, v]) => [k.toUpperCase(), v]));
    expect((await deliver(body, headers)).status).toBe(200);
  });
});

describe('POST /webhook with signing off (no secret, outside production)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp({ MAGIC_HOUR_WEBHOOK_SECRET: '' });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('refuses an unsigned invalid body with 400 and stores nothing', async () => {
    const answer = await request(t.app.getHttpServer())
      .post('/webhook')
      .set('content-type', 'application/json')
      .send('{"type":"video.completed","payload":{}}');
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ statusCode: 400, error: 'Bad Request', message: expect.stringMatching(/payload\.id/) });
    expect(await t.db.query('SELECT count(*)::int AS n FROM webhook_events')).toEqual([{ n: 0 }]);
  });

  it('stores and processes an unsigned valid event', async () => {
    const id = projectId();
    const answer = await request(t.app.getHttpServer())
      .post('/webhook')
      .set('content-type', 'application/json')
      .send(eventBody('audio.completed', id));
    expect(answer.body).toEqual({ received: true, duplicate: false });
    await eventually(async () => {
      const res = await request(t.app.getHttpServer()).get(`/jobs/${id}`).set('authorization', `Bearer ${TEST_API_KEY}`);
      return res.body.status === 'complete';
    });
  });
});
