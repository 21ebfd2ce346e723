import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { eventBody, projectId } from './support/events.js';
import { signedHeaders } from './support/signing.js';
import { startApp, TEST_API_KEY, TEST_SECRET, type TestApp } from './support/app.js';

describe('REST API security headers (helmet)', () => {
  let t: TestApp;
  const http = () => request(t.app.getHttpServer());

  beforeAll(async () => {
    t = await startApp();
  });
  afterAll(async () => {
    await t?.close();
  });

  it.each([
    ['GET /health', () => http().get('/health'), 200],
    ['GET /jobs with a key', () => http().get('/jobs').set('authorization', `Bearer ${TEST_API_KEY}`), 200],
    ['GET /jobs without a key', () => http().get('/jobs'), 401],
    [
      'GET /events/:id of nothing',
      () => http().get('/events/00000000-0000-4000-8000-000000000000').set('authorization', `Bearer ${TEST_API_KEY}`),
      404,
    ],
    ['GET /nowhere', () => http().get('/nowhere'), 404],
  ] as const)('sets them on %s', async (_, send, status) => {
    const answer = await send();
    expect(answer.status).toBe(status);
    expect(answer.headers).toMatchObject({
      'content-security-policy': expect.stringContaining("default-src 'self'"),
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'SAMEORIGIN',
      'strict-transport-security': expect.stringMatching(/^max-age=\d+/),
      'referrer-policy': 'no-referrer',
      'cross-origin-resource-policy': 'same-origin',
    });
    expect(answer.headers['x-powered-by']).toBeUndefined();
  });

  it('sets nosniff on the webhook answers too', async () => {
    const body = eventBody('video.started', projectId());
    const answer = await http().post('/webhook').set(signedHeaders(body, TEST_SECRET)).send(body);
    expect(answer.status).toBe(200);
    expect(answer.headers['x-content-type-options']).toBe('nosniff');
  });
});

describe('REST API rate limit (API_RATE_LIMIT per key, or per address without a valid key)', () => {
  const KEY_A = 'rate-key-a';
  const KEY_B = 'rate-key-b';
  const LIMIT = 3;
  let t: TestApp;
  const http = () => request(t.app.getHttpServer());
  const withKey = (key: string, path = '/jobs') => http().get(path).set('authorization', `Bearer ${key}`);

  beforeAll(async () => {
    t = await startApp({ API_KEYS: `${KEY_A},${KEY_B}`, API_RATE_LIMIT: String(LIMIT) });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('lets a key send up to the limit at once, then answers 429 JSON with Retry-After; another key is unaffected', async () => {
    const answers = [];
    // Three a minute: the rest of the minute's requests are refused.
    for (let i = 0; i < 10; i++) answers.push(await withKey(KEY_A, i % 2 === 0 ? '/jobs' : '/events'));
    expect(answers.slice(0, LIMIT).map((answer) => answer.status)).toEqual([200, 200, 200]);
    expect(answers[0].headers['x-ratelimit-limit']).toBe(String(LIMIT));
    expect(answers[0].headers['x-ratelimit-remaining']).toBe(String(LIMIT - 1));
    const refused = answers.filter((answer) => answer.status === 429);
    expect(refused.length).toBeGreaterThan(0);
    expect(answers.every((answer) => answer.status === 200 || answer.status === 429)).toBe(true);
    for (const answer of refused) {
      expect(answer.body).toEqual({ statusCode: 429, error: 'Too Many Requests', message: expect.stringContaining('Too many requests') });
      expect(Number(answer.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(Number(answer.headers['retry-after'])).toBeLessThanOrEqual(60);
      expect(answer.text).not.toContain(KEY_A);
    }

    expect((await withKey(KEY_B)).status).toBe(200);
  });

  it('counts requests without a valid key by address, so guessing keys is limited too', async () => {
    const statuses = [];
    for (let i = 0; i < 10; i++) statuses.push((await withKey(`guess-${i}`)).status);
    expect(statuses.slice(0, LIMIT)).toEqual([401, 401, 401]);
    expect(statuses).toContain(429);
    // A valid key has a budget of its own, apart from its address.
    expect((await withKey(KEY_B, '/events')).status).toBe(200);
  });

  it('never limits /health or POST /webhook', async () => {
    for (let i = 0; i < 10; i++) {
      const health = await http().get('/health');
      expect(health.status).toBe(200);
      expect(health.headers['x-ratelimit-limit']).toBeUndefined();
    }
    for (let i = 0; i < 10; i++) {
      const body = eventBody('video.started', projectId());
      expect((await http().post('/webhook').set(signedHeaders(body, TEST_SECRET)).send(body)).status).toBe(200);
    }
  });
});

describe('Console login rate limit', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startApp({ API_KEYS: 'console-key', API_RATE_LIMIT: '3' });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('limits key guesses through the login form per address, as on the REST API', async () => {
    const statuses = [];
    for (let i = 0; i < 10; i++) {
      const answer = await request(t.app.getHttpServer())
        .post('/admin/login')
        .type('form')
        .send({ key: `guess-${i}` });
      statuses.push(answer.status);
    }
    expect(statuses.slice(0, 3)).toEqual([401, 401, 401]);
    expect(statuses).toContain(429);
    expect(statuses.every((status) => status === 401 || status === 429)).toBe(true);
  });
});

describe('Console Bearer key rate limit', () => {
  const KEY = 'console-bearer-key';
  const LIMIT = 3;
  let t: TestApp;
  const http = () => request(t.app.getHttpServer());

  beforeAll(async () => {
    t = await startApp({ API_KEYS: KEY, API_RATE_LIMIT: String(LIMIT) });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('limits wrong Bearer keys to the console and Bull Board per address, from the same budget as the REST API', async () => {
    // A cookie session first (the login takes one request from the address's budget).
    const login = await http().post('/admin/login').type('form').send({ key: KEY });
    expect(login.status).toBe(303);
    const cookie = login.headers['set-cookie'];

    const answers = [];
    for (let i = 0; i < 10; i++) {
      answers.push(
        await http().get('/admin/queues/api/queues').set('authorization', `Bearer guess-${i}`).set('accept', 'application/json'),
      );
    }
    const statuses = answers.map((answer) => answer.status);
    expect(statuses.slice(0, LIMIT - 1)).toEqual([401, 401]);
    expect(statuses).toContain(429);
    expect(statuses.every((status) => status === 401 || status === 429)).toBe(true);
    for (const answer of answers.filter((answer) => answer.status === 429)) {
      expect(answer.body).toEqual({ statusCode: 429, error: 'Too Many Requests', message: expect.stringContaining('Too many requests') });
      expect(Number(answer.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(Number(answer.headers['retry-after'])).toBeLessThanOrEqual(60);
      expect(answer.headers['x-ratelimit-limit']).toBe(String(LIMIT));
    }

    // A browser asking for a page with a wrong key gets the console's error page, not a login redirect.
    const page = await http().get('/admin/events').set('authorization', 'Bearer guess-page').set('accept', 'text/html');
    expect(page.status).toBe(429);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.headers['retry-after']).toBeDefined();
    expect(page.text).toContain('Too many requests');
    // The same address budget as the REST API's.
    expect((await http().get('/jobs').set('authorization', 'Bearer guess-rest')).status).toBe(429);

    // A valid key has a budget of its own; a cookie session is not counted.
    const keyed = await http().get('/admin/queues/api/queues').set('authorization', `Bearer ${KEY}`);
    expect(keyed.status).toBe(200);
    expect(keyed.headers['x-ratelimit-remaining']).toBe(String(LIMIT - 1));
    for (let i = 0; i < 5; i++) expect((await http().get('/admin/queues/api/queues').set('cookie', cookie)).status).toBe(200);
  });
});
