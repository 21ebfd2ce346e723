import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { createHash } from 'node:crypto';
import request from 'supertest';
import { RATE_LIMIT_REDIS_TIMEOUT_MS } from '../src/common/redis-throttler.storage.js';
import { eventBody, projectId } from './support/events.js';
import { removeKeysUnder } from './support/redis-keys.js';
import { RedisServer } from './support/redis-server.js';
import { signedHeaders } from './support/signing.js';
import { TcpProxy } from './support/tcp-proxy.js';
import { eventually, freePort, REDIS_URL, startApp, TEST_SECRET, testConfig, type TestApp } from './support/app.js';

const KEY = 'rate-limit-key';
const LIMIT = 4;
type Http = ReturnType<typeof request>;
const statusesOf = (answers: Array<{ status: number }>) => answers.map((answer) => answer.status);

/** Sends `count` requests one after the other, taking turns over `apps`; `send` builds each. */
async function inTurns(apps: TestApp[], count: number, send: (http: Http, i: number) => request.Test) {
  const answers = [];
  for (let i = 0; i < count; i++) answers.push(await send(request(apps[i % apps.length].app.getHttpServer()), i));
  return answers;
}

describe('API rate limit shared by two API processes (Redis)', () => {
  let a: TestApp;
  let b: TestApp;

  beforeAll(async () => {
    // The tests speak for clients behind a proxy on this host, naming them in X-Forwarded-For.
    const config = testConfig({ API_KEYS: `${KEY},other-key`, API_RATE_LIMIT: String(LIMIT), TRUST_PROXY: 'loopback' });
    a = await startApp({}, config);
    b = await startApp({}, { ...config, role: 'api' });
  });
  afterAll(async () => {
    await b?.close({ keepDatabase: true });
    await a?.close();
  });

  it('lets a key send the limit in all, not per process, and keeps no key in Redis, only its hash', async () => {
    const answers = await inTurns([a, b], LIMIT + 2, (http) => http.get('/jobs').set('authorization', `Bearer ${KEY}`));
    expect(statusesOf(answers)).toEqual([200, 200, 200, 200, 429, 429]);
    expect(answers.map((answer) => answer.headers['x-ratelimit-remaining'])).toEqual(['3', '2', '1', '0', '0', '0']);
    const refused = answers[LIMIT];
    expect(refused.body).toEqual({
      statusCode: 429,
      error: 'Too Many Requests',
      message: expect.stringContaining(`at most ${LIMIT} a minute`),
    });
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(Number(refused.headers['retry-after'])).toBeLessThanOrEqual(60);

    const redis = new Redis(REDIS_URL);
    try {
      const keys = await redis.keys(`${a.config.queuePrefix}:rate-limit:*`);
      expect(keys).toContain(`${a.config.queuePrefix}:rate-limit:default:key:${createHash('sha256').update(KEY).digest('hex')}`);
      expect(keys.join('\n')).not.toContain(KEY);
    } finally {
      redis.disconnect();
    }
  });

  it('counts clients without a valid key by address, the same in both processes', async () => {
    const from = (address: string) => (http: Http, i: number) =>
      http.get('/events').set('x-forwarded-for', address).set('authorization', `Bearer guess-${i}`);
    expect(statusesOf(await inTurns([a, b], LIMIT + 1, from('198.51.100.7')))).toEqual([401, 401, 401, 401, 429]);
    // Another IPv4 address, however near, has a budget of its own.
    expect(statusesOf(await inTurns([b, a], 1, from('198.51.100.8')))).toEqual([401]);
    // A valid key from the refused address is counted for the key, not the address.
    expect(
      (await request(a.app.getHttpServer()).get('/jobs').set('x-forwarded-for', '198.51.100.7').set('authorization', 'Bearer other-key'))
        .status,
    ).toBe(200);
  });

  it('counts an IPv6 client by its /64', async () => {
    const guess = (address: string) => (http: Http, i: number) =>
      http.get('/jobs').set('x-forwarded-for', address).set('authorization', `Bearer guess-${i}`);
    // Four addresses of one /64 share its budget; the next /64 has its own.
    const answers = [];
    for (const address of [
      '2001:db8:aa:1::1',
      '2001:db8:aa:1::2',
      '2001:db8:aa:1:ffff:ffff:ffff:ffff',
      '2001:db8:aa:1:1::9',
      '2001:db8:aa:1::77',
    ]) {
      answers.push(...(await inTurns([a, b], 1, guess(address))));
    }
    expect(statusesOf(answers)).toEqual([401, 401, 401, 401, 429]);
    expect(statusesOf(await inTurns([a], 1, guess('2001:db8:aa:2::1')))).toEqual([401]);
  });

  it('shares the budget with the console login, and never limits the webhook, /health or /metrics', async () => {
    const address = '203.0.113.50';
    const logins = await inTurns([a, b], LIMIT, (http, i) =>
      http
        .post('/admin/login')
        .set('x-forwarded-for', address)
        .type('form')
        .send({ key: `guess-${i}` }),
    );
    expect(statusesOf(logins)).toEqual([401, 401, 401, 401]);
    expect((await request(b.app.getHttpServer()).get('/jobs').set('x-forwarded-for', address)).status).toBe(429);
    expect(
      (await request(a.app.getHttpServer()).post('/admin/login').set('x-forwarded-for', address).type('form').send({ key: 'x' })).status,
    ).toBe(429);

    for (let i = 0; i < LIMIT + 2; i++) {
      const body = eventBody('video.started', projectId());
      const app = (i % 2 ? a : b).app.getHttpServer();
      expect(
        (await request(app).post('/webhook').set('x-forwarded-for', address).set(signedHeaders(body, TEST_SECRET)).send(body)).status,
      ).toBe(200);
      const health = await request(app).get('/health').set('x-forwarded-for', address);
      expect(health.status).toBe(200);
      expect(health.headers['x-ratelimit-limit']).toBeUndefined();
      expect((await request(app).get('/metrics').set('x-forwarded-for', address)).status).toBe(200);
    }
  });
});

describe('API rate limit while Redis cannot count', () => {
  let redis: RedisServer;
  let proxy: TcpProxy;
  let t: TestApp;
  const http = () => request(t.app.getHttpServer());
  const keyed = () => http().get('/jobs').set('authorization', `Bearer ${KEY}`);
  const unkeyed = () => http().get('/jobs').set('authorization', 'Bearer guess');

  beforeAll(async () => {
    redis = new RedisServer(await freePort());
    await redis.start();
    proxy = new TcpProxy(await freePort(), redis.port);
    await proxy.start();
    // An API process, as rate limits run in: no worker whose jobs a frozen Redis would hold up at close.
    t = await startApp({ REDIS_URL: `redis://127.0.0.1:${proxy.port}`, API_KEYS: KEY, API_RATE_LIMIT: String(LIMIT), APP_ROLE: 'api' });
  });
  afterEach(async () => {
    // Drop what a test froze or cut; the app reconnects.
    await proxy.cut();
    await proxy.restore();
  });
  afterAll(async () => {
    await t?.close();
    await proxy?.cut();
    await redis?.stop();
  });

  /** Answers to a valid key and to a guess, each timed. */
  async function answersWithRedisOut() {
    const started = Date.now();
    const withKey = await keyed();
    const withKeyMs = Date.now() - started;
    const guess = await unkeyed();
    const page = await http().get('/admin/events').set('authorization', 'Bearer guess').set('accept', 'application/json');
    return { withKey, withKeyMs, guess, page, totalMs: Date.now() - started };
  }

  it('lets valid keys through uncounted and refuses other clients with 503 when Redis is down, then counts again', async () => {
    await proxy.cut();
    const { withKey, guess, page, totalMs } = await answersWithRedisOut();
    expect(withKey.status).toBe(200);
    expect(withKey.headers['x-ratelimit-limit']).toBeUndefined();
    expect(guess.status).toBe(503);
    expect(guess.body).toEqual({ statusCode: 503, error: 'Service Unavailable', message: expect.stringContaining('cannot count') });
    expect(guess.headers['retry-after']).toBe('5');
    // The console's Bearer check follows the same policy.
    expect(page.status).toBe(503);
    expect(totalMs).toBeLessThan(1000);
    // More keyed requests than the limit: none is refused while nothing counts.
    for (let i = 0; i < LIMIT + 1; i++) expect((await keyed()).status).toBe(200);
    const body = eventBody('video.started', projectId());
    expect((await http().post('/webhook').set(signedHeaders(body, TEST_SECRET)).send(body)).status).toBe(200);

    await proxy.restore();
    // Counted again once the storage has reconnected (its retry delay is at most 2 s).
    await eventually(async () => (await keyed()).headers['x-ratelimit-limit'] === String(LIMIT), 10_000);
    expect((await unkeyed()).status).toBe(401);
  });

  it('answers within the Redis timeout when Redis stops answering', async () => {
    await eventually(async () => (await keyed()).headers['x-ratelimit-limit'] === String(LIMIT), 10_000);
    proxy.freeze();
    const { withKey, withKeyMs, guess } = await answersWithRedisOut();
    expect(withKey.status).toBe(200);
    expect(guess.status).toBe(503);
    // The count was waited for, up to the storage's command timeout, and no longer.
    expect(withKeyMs).toBeGreaterThanOrEqual(RATE_LIMIT_REDIS_TIMEOUT_MS - 50);
    expect(withKeyMs).toBeLessThan(RATE_LIMIT_REDIS_TIMEOUT_MS + 1500);
  });
});

describe('Trusted proxies (TRUST_PROXY)', () => {
  /** Started with the default: no proxy is trusted. */
  let direct: TestApp;
  /** Behind a proxy on the same host. */
  let behindLocalProxy: TestApp;
  /** Behind one proxy of any address (a cloud load balancer). */
  let behindOneHop: TestApp;

  /** `count` wrong console logins, each claiming (in `X-Forwarded-For`) another address. */
  const spoofedLogins = (t: TestApp, count: number) =>
    inTurns([t], count, (http, i) =>
      http
        .post('/admin/login')
        .set('x-forwarded-for', `198.51.100.${i + 1}`)
        .type('form')
        .send({ key: `guess-${i}` }),
    );
  const sessionCookieOver = async (t: TestApp, proto: string) =>
    (await request(t.app.getHttpServer()).post('/admin/login').set('x-forwarded-proto', proto).type('form').send({ key: KEY })).headers[
      'set-cookie'
    ]?.[0];

  beforeAll(async () => {
    const env = { API_KEYS: KEY, API_RATE_LIMIT: String(LIMIT), APP_ROLE: 'api' };
    direct = await startApp(env);
    behindLocalProxy = await startApp({ ...env, TRUST_PROXY: 'loopback' });
    behindOneHop = await startApp({ ...env, TRUST_PROXY: '1' });
  });
  afterEach(async () => {
    // Every test starts with full budgets.
    for (const t of [direct, behindLocalProxy, behindOneHop]) await removeKeysUnder(REDIS_URL, [`${t.config.queuePrefix}:rate-limit`]);
  });
  afterAll(async () => {
    await behindOneHop?.close();
    await behindLocalProxy?.close();
    await direct?.close();
  });

  it('by default counts a client by its socket address, whatever X-Forwarded-For it sends', async () => {
    expect(statusesOf(await spoofedLogins(direct, LIMIT + 1))).toEqual([401, 401, 401, 401, 429]);
    expect((await request(direct.app.getHttpServer()).get('/jobs').set('x-forwarded-for', '198.51.100.99')).status).toBe(429);
  });

  it('believes X-Forwarded-For from the proxies it trusts', async () => {
    // Each address has a budget of its own, and a repeated one runs out.
    expect(statusesOf(await spoofedLogins(behindLocalProxy, LIMIT + 1))).toEqual([401, 401, 401, 401, 401]);
    const fromOne = await inTurns([behindLocalProxy], LIMIT, (http) => http.get('/jobs').set('x-forwarded-for', '198.51.100.1'));
    expect(statusesOf(fromOne)).toEqual([401, 401, 401, 429]);
    // One hop trusted: the address the last proxy saw counts, not what the client put before it.
    const hops = await inTurns([behindOneHop], LIMIT + 1, (http, i) =>
      http.get('/jobs').set('x-forwarded-for', `192.0.2.${i + 1}, 203.0.113.7`),
    );
    expect(statusesOf(hops)).toEqual([401, 401, 401, 401, 429]);
    expect((await request(behindOneHop.app.getHttpServer()).get('/jobs').set('x-forwarded-for', '203.0.113.8')).status).toBe(401);
  });

  it('marks the console cookie Secure for X-Forwarded-Proto: https only from a trusted proxy', async () => {
    expect(await sessionCookieOver(direct, 'https')).not.toMatch(/;\s*Secure/i);
    expect(await sessionCookieOver(behindLocalProxy, 'https')).toMatch(/;\s*Secure/i);
    expect(await sessionCookieOver(behindLocalProxy, 'http')).not.toMatch(/;\s*Secure/i);
    expect(await sessionCookieOver(behindOneHop, 'https')).toMatch(/;\s*Secure/i);
  });
});
