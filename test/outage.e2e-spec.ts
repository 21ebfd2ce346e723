import { afterAll, afterEach, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { ALL_TYPES, eventBody, projectId } from './support/events.js';
import { signedHeaders } from './support/signing.js';
import { eventually, freePort, startApp, TEST_API_KEY, TEST_SECRET, testConfig, uniqueName, type TestApp } from './support/app.js';
import { RedisServer } from './support/redis-server.js';
import { TcpProxy } from './support/tcp-proxy.js';

describe('Redis outage', () => {
  let t: TestApp | undefined;
  let redis: RedisServer | undefined;
  afterEach(async () => {
    await t?.close();
    await redis?.stop();
  });

  it('starts and keeps answering 200 without Redis, then processes everything once Redis is back', async () => {
    redis = new RedisServer(await freePort());
    t = await startApp({ REDIS_URL: redis.url });
    const http = () => request(t!.app.getHttpServer());

    const health = await http().get('/health');
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({ status: 'degraded', details: { database: { status: 'up' }, redis: { status: 'down' } } });

    const ids = ALL_TYPES.map(() => projectId());
    const started = Date.now();
    const answers = await Promise.all(
      ALL_TYPES.map((type, i) => {
        const body = eventBody(type, ids[i]);
        return http().post('/webhook').set(signedHeaders(body, TEST_SECRET)).send(body);
      }),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(9).fill(200));
    expect(Date.now() - started).toBeLessThan(5000);
    const stored = await t.db.query(`SELECT status, count(*)::int AS n FROM webhook_events GROUP BY status`);
    expect(stored).toEqual([{ status: 'received', n: 9 }]);

    await redis.start();
    await eventually(async () => {
      const [row] = await t!.db.query(`SELECT count(*)::int AS n FROM webhook_events WHERE status = 'processed'`);
      return row.n === 9;
    }, 20000);
    for (const id of ids) {
      const job = await http().get(`/jobs/${id}`).set('authorization', `Bearer ${TEST_API_KEY}`);
      expect(job.status).toBe(200);
      expect(job.body.events).toEqual([expect.objectContaining({ status: 'processed' })]);
    }
    expect((await http().get('/health')).body).toMatchObject({ status: 'ok', details: { redis: { status: 'up' } } });
  });

  it('processes events again after Redis lost its data', async () => {
    redis = new RedisServer(await freePort());
    await redis.start();
    // A worker-less API first: events are stored and queued, then Redis dies with the queue.
    const config = testConfig({ REDIS_URL: redis.url, APP_ROLE: 'api' });
    t = await startApp({}, config);
    const id = projectId();
    const body = eventBody('video.completed', id);
    expect((await request(t.app.getHttpServer()).post('/webhook').set(signedHeaders(body, TEST_SECRET)).send(body)).status).toBe(200);
    await eventually(async () => (await t!.db.query(`SELECT enqueued_at FROM webhook_events`))[0]?.enqueued_at);
    await t.close({ keepDatabase: true });
    t = undefined;
    await redis.stop();
    await redis.start();

    // The worker comes up against an empty Redis: its sweep queues the stored event again.
    t = await startApp({}, { ...config, role: 'worker' });
    await eventually(async () => (await t!.db.query(`SELECT status FROM webhook_events`))[0]?.status === 'processed', 20000);
    const [job] = await t.db.query(`SELECT status FROM jobs WHERE id = $1`, [id]);
    expect(job).toEqual({ status: 'complete' });
  });
});

describe('Postgres outage', () => {
  let t: TestApp | undefined;
  let proxy: TcpProxy | undefined;
  afterAll(async () => {
    await proxy?.restore();
    await t?.close();
    await proxy?.cut();
  });

  it('answers 503 while Postgres is unreachable, never 200, and recovers on its own', async () => {
    proxy = new TcpProxy(await freePort(), 5432);
    await proxy.start();
    const name = uniqueName('mh_test');
    const config = testConfig({ DATABASE_URL: `postgres://postgres@127.0.0.1:${proxy.port}/${name}` });
    t = await startApp({}, config);
    const http = () => request(t!.app.getHttpServer());
    const send = () => {
      const body = eventBody('video.completed', projectId());
      return http().post('/webhook').set(signedHeaders(body, TEST_SECRET)).send(body);
    };
    expect((await send()).status).toBe(200);

    await proxy.cut();
    const started = Date.now();
    const down = await send();
    expect(down.status).toBe(503);
    expect(down.body).toEqual({ statusCode: 503, error: 'Service Unavailable', message: expect.any(String) });
    expect(Date.now() - started).toBeLessThan(10000);
    expect((await http().get('/health')).status).toBe(503);

    await proxy.restore();
    await eventually(async () => (await send()).status === 200, 15000, 250);
    expect((await http().get('/health')).status).toBe(200);
    // Direct connection (not through the proxy): every 200 was stored, no 503 was.
    const direct = await t.db.query(`SELECT count(*)::int AS n FROM webhook_events`);
    expect(direct[0].n).toBeGreaterThanOrEqual(2);
  });
});

describe('Postgres lost between a commit and its answer', () => {
  let worker: TestApp | undefined;
  let api: TestApp | undefined;
  let proxy: TcpProxy | undefined;
  afterAll(async () => {
    await proxy?.restore();
    await api?.close({ keepDatabase: true });
    await worker?.close();
    await proxy?.cut();
  });

  it('has an event that was stored although intake answered 503 processed within seconds, not minutes', async () => {
    // The worker reaches Postgres directly and runs all along: only intake loses the connection.
    const name = uniqueName('mh_test');
    const config = testConfig({ DATABASE_URL: `postgres://postgres@127.0.0.1:5432/${name}` });
    worker = await startApp({}, { ...config, role: 'worker' });
    proxy = new TcpProxy(await freePort(), 5432);
    await proxy.start();
    api = await startApp({}, { ...config, role: 'api', databaseUrl: `postgres://postgres@127.0.0.1:${proxy.port}/${name}` });
    const send = (body: string) => request(api!.app.getHttpServer()).post('/webhook').set(signedHeaders(body, TEST_SECRET)).send(body);
    // One delivery first, so that intake holds an open connection to take the next statement.
    expect((await send(eventBody('video.started', projectId()))).status).toBe(200);

    // Postgres gets the insert and commits it, but its answer never comes back: then the connection drops.
    proxy.freeze();
    const id = projectId();
    const body = eventBody('video.completed', id);
    const answer = send(body).then((response) => response);
    const stored = async () => (await worker!.db.query(`SELECT status FROM webhook_events WHERE project_id = $1`, [id]))[0]?.status;
    await eventually(async () => (await stored()) === 'received', 10000, 50);
    await proxy.cut();
    expect((await answer).status).toBe(503);

    // Magic Hour retries: a duplicate now. The stored event must not wait for the relay's late re-queue.
    await proxy.restore();
    await eventually(async () => (await send(body)).status === 200, 15000, 250);
    await eventually(async () => (await stored()) === 'processed', 20000, 250);
    const [job] = await worker.db.query(`SELECT status FROM jobs WHERE id = $1`, [id]);
    expect(job).toEqual({ status: 'complete' });
  });
});
