import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { eventBody, projectId } from './support/events.js';
import { signedHeaders } from './support/signing.js';
import { eventually, startApp, TEST_API_KEY, TEST_SECRET, type TestApp } from './support/app.js';

describe('GET /jobs (API key, keyset pagination)', () => {
  let t: TestApp;
  const http = () => request(t.app.getHttpServer());
  const authed = (path: string) => http().get(path).set('authorization', `Bearer ${TEST_API_KEY}`);
  const ids: string[] = [];

  beforeAll(async () => {
    t = await startApp({ API_KEYS: `other-key,${TEST_API_KEY}` });
    // Five jobs with distinct creation times: 3 videos complete, 2 images rendering.
    const specs = [
      ['video.completed', '2026-11-27T10:00:01.000Z'],
      ['image.started', '2026-11-27T10:00:02.000Z'],
      ['video.completed', '2026-11-27T10:00:03.000Z'],
      ['image.started', '2026-11-27T10:00:04.000Z'],
      ['video.completed', '2026-11-27T10:00:05.000Z'],
    ] as const;
    for (const [type, createdAt] of specs) {
      const id = projectId();
      ids.push(id);
      const body = eventBody(type, id, { created_at: createdAt });
      expect((await http().post('/webhook').set(signedHeaders(body, TEST_SECRET)).send(body)).status).toBe(200);
    }
    await eventually(async () => (await authed('/jobs?limit=100')).body.items?.length === 5);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('refuses a request without a key, and with a wrong key, with 401 JSON', async () => {
    const none = await http().get(`/jobs/${ids[0]}`);
    expect(none.status).toBe(401);
    expect(none.body).toEqual({ statusCode: 401, error: 'Unauthorized', message: expect.any(String) });
    expect((await http().get('/jobs').set('authorization', 'Bearer wrong-key')).status).toBe(401);
    expect((await http().get('/jobs').set('authorization', `Basic ${TEST_API_KEY}`)).status).toBe(401);
    expect((await http().get('/jobs').set('authorization', `Bearer ${TEST_API_KEY}x`)).status).toBe(401);
  });

  it('answers with a right key (any of those configured)', async () => {
    expect((await authed(`/jobs/${ids[0]}`)).status).toBe(200);
    expect((await http().get(`/jobs/${ids[0]}`).set('authorization', 'Bearer other-key')).status).toBe(200);
  });

  it('shows a job in the documented shape', async () => {
    const res = await authed(`/jobs/${ids[0]}`);
    expect(res.body).toEqual({
      id: ids[0],
      media: 'video',
      projectType: 'TEXT_TO_VIDEO',
      name: 'video test project',
      status: 'complete',
      downloads: [{ url: `https://videos.magichour.ai/id/${ids[0]}/output`, expiresAt: '2026-11-28T10:00:00.000Z' }],
      error: null,
      creditsCharged: 120,
      details: { width: 1280, height: 720, fps: 30, startSeconds: 0, endSeconds: 5 },
      createdAt: '2026-11-27T10:00:01.000Z',
      startedAt: null,
      completedAt: expect.any(String),
      erroredAt: null,
      updatedAt: expect.any(String),
      reconciliation: { lastCheckedAt: null, nextCheckAt: null, lastOutcome: null, notFoundAt: null },
      events: [
        {
          type: 'video.completed',
          status: 'processed',
          receivedAt: expect.any(String),
          processedAt: expect.any(String),
          source: 'webhook',
        },
      ],
      files: [],
    });
  });

  it('answers 404 JSON for an unknown job', async () => {
    const res = await authed('/jobs/cnosuchjob');
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ statusCode: 404, error: 'Not Found', message: 'Job cnosuchjob not found' });
  });

  it('lists newest first and pages with the cursor until nextCursor is null', async () => {
    const first = await authed('/jobs?limit=2');
    expect(first.body.items.map((j: { id: string }) => j.id)).toEqual([ids[4], ids[3]]);
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const second = await authed(`/jobs?limit=2&cursor=${first.body.nextCursor}`);
    expect(second.body.items.map((j: { id: string }) => j.id)).toEqual([ids[2], ids[1]]);
    const third = await authed(`/jobs?limit=2&cursor=${second.body.nextCursor}`);
    expect(third.body.items.map((j: { id: string }) => j.id)).toEqual([ids[0]]);
    expect(third.body.nextCursor).toBeNull();
    expect(third.body.items[0].events).toHaveLength(1);
  });

  it('filters by status and media', async () => {
    const rendering = await authed('/jobs?status=rendering');
    expect(rendering.body.items.map((j: { id: string }) => j.id)).toEqual([ids[3], ids[1]]);
    const videos = await authed('/jobs?media=video&limit=2');
    expect(videos.body.items.map((j: { id: string }) => j.id)).toEqual([ids[4], ids[2]]);
    const rest = await authed(`/jobs?media=video&limit=2&cursor=${videos.body.nextCursor}`);
    expect(rest.body).toMatchObject({ items: [{ id: ids[0] }], nextCursor: null });
    expect((await authed('/jobs?media=audio')).body).toEqual({ items: [], nextCursor: null });
  });

  it.each([
    ['/jobs?limit=101', /limit must not be greater than 100/],
    ['/jobs?limit=0', /limit must not be less than 1/],
    ['/jobs?limit=ten', /limit must be an integer/],
    ['/jobs?status=done', /status must be one of/],
    ['/jobs?media=pdf', /media must be one of/],
    ['/jobs?cursor=bm9wZQ', /cursor/],
    ['/jobs?surprise=1', /should not exist/],
  ])('answers 400 JSON for %s', async (path, message) => {
    const res = await authed(path);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
    expect(JSON.stringify(res.body.message)).toMatch(message);
  });
});

describe('GET /jobs with creation times outside a sane range', () => {
  let t: TestApp;
  const http = () => request(t.app.getHttpServer());
  const authed = (path: string) => http().get(path).set('authorization', `Bearer ${TEST_API_KEY}`);
  beforeAll(async () => {
    t = await startApp();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('keeps such a created_at out of createdAt, and accepts every cursor it returns when paging through them', async () => {
    const sent = Date.now();
    const farFuture = projectId();
    const farPast = projectId();
    const ordinary = projectId();
    for (const [id, createdAt] of [
      [farFuture, '9999-12-31T23:59:59-23:59'],
      [farPast, '1970-01-01T00:00:00Z'],
      [ordinary, '2026-11-27T10:00:00.000Z'],
    ]) {
      const body = eventBody('video.completed', id, { created_at: createdAt });
      expect((await http().post('/webhook').set(signedHeaders(body, TEST_SECRET)).send(body)).status).toBe(200);
    }
    // A job a year-10000 creation time was already stored for (before such times were refused).
    const stored = projectId();
    await t.db.query(`INSERT INTO jobs (id, media, status, created_at) VALUES ($1, 'video', 'complete', '10000-01-01T05:59:00Z')`, [
      stored,
    ]);
    await eventually(async () => (await authed('/jobs?limit=100')).body.items?.length === 4);

    for (const id of [farFuture, farPast]) {
      const job = await authed(`/jobs/${id}`);
      // Not the payload's time: the time the service first heard of the job.
      expect(new Date(job.body.createdAt as string).getTime()).toBeGreaterThanOrEqual(sent - 1000);
      expect(new Date(job.body.createdAt as string).getTime()).toBeLessThanOrEqual(Date.now());
    }
    expect((await authed(`/jobs/${ordinary}`)).body.createdAt).toBe('2026-11-27T10:00:00.000Z');

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await authed(`/jobs?limit=1${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.status).toBe(200);
      seen.push(...(page.body.items as Array<{ id: string }>).map((job) => job.id));
      cursor = page.body.nextCursor as string | null;
    } while (cursor !== null && seen.length <= 4);
    expect(seen).toEqual([stored, expect.any(String), expect.any(String), ordinary]);
    expect(new Set(seen).size).toBe(4);
  });
});
