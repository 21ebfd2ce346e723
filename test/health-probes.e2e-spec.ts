import { afterAll, describe, expect, it } from '@jest/globals';
import type { Server } from 'node:http';
import { connect } from 'node:net';
import request from 'supertest';
import { GracefulShutdown } from '../src/common/graceful-shutdown.js';
import { dropDatabase } from '../src/database/database.bootstrap.js';
import { portOf, rawRequest } from './support/raw-http.js';
import { removeKeysUnder } from './support/redis-keys.js';
import { TcpProxy } from './support/tcp-proxy.js';
import { eventually, freePort, startApp, testConfig, uniqueName, type TestApp } from './support/app.js';

describe('GET /health/live and /health/ready while Postgres comes and goes', () => {
  let t: TestApp | undefined;
  let proxy: TcpProxy | undefined;
  afterAll(async () => {
    await proxy?.restore();
    await t?.close();
    await proxy?.cut();
  });

  it('is ready with Postgres up and migrated, not ready while it is unreachable, and ready again after; live throughout', async () => {
    // The app reaches Postgres only through the proxy, which the test cuts; the shared server is left alone.
    proxy = new TcpProxy(await freePort(), 5432);
    await proxy.start();
    const config = testConfig({ DATABASE_URL: `postgres://postgres@127.0.0.1:${proxy.port}/${uniqueName('mh_test')}` });
    t = await startApp({}, config);
    const http = () => request(t!.app.getHttpServer());

    expect((await http().get('/health/ready')).body).toEqual({ status: 'ok' });
    expect((await http().get('/health/ready')).status).toBe(200);
    expect((await http().get('/health/live')).body).toEqual({ status: 'ok' });

    await proxy.cut();
    const started = Date.now();
    const down = await http().get('/health/ready');
    expect(down.status).toBe(503);
    expect(down.body).toEqual({ statusCode: 503, error: 'Service Unavailable', message: 'Not ready: Postgres is unreachable' });
    // A probe must answer within its own timeout, not hang on the pool.
    expect(Date.now() - started).toBeLessThan(5000);
    const live = await http().get('/health/live');
    expect(live.status).toBe(200);
    expect(live.body).toEqual({ status: 'ok' });

    await proxy.restore();
    await eventually(async () => (await http().get('/health/ready')).status === 200, 15000, 250);
  });

  it('is not ready while a migration this build knows is not applied', async () => {
    // The app's own database, reached directly: its newest migration's record is taken away and put back.
    const [{ name }] = await t!.db.query(`SELECT name FROM typeorm_migrations ORDER BY id DESC LIMIT 1`);
    await t!.db.query(`DELETE FROM typeorm_migrations WHERE name = $1`, [name]);
    try {
      const pending = await request(t!.app.getHttpServer()).get('/health/ready');
      expect(pending.status).toBe(503);
      expect(pending.body.message).toBe('Not ready: migrations are pending');
    } finally {
      await t!.db.query(`INSERT INTO typeorm_migrations (timestamp, name) VALUES ($1, $2)`, [Number(/\d{13}/.exec(name)![0]), name]);
    }
    expect((await request(t!.app.getHttpServer()).get('/health/ready')).status).toBe(200);
  });

  it('leaves GET /health as it was: the dependencies, 200 while Postgres answers', async () => {
    const health = await request(t!.app.getHttpServer()).get('/health');
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({ status: 'ok', details: { database: { status: 'up' }, redis: { status: 'up' } } });
  });
});

describe('GET /health/ready during a graceful stop', () => {
  it('answers 503 to a probe that arrives while the process is stopping, and the stop still ends cleanly', async () => {
    const t = await startApp();
    try {
      const server = t.app.getHttpServer() as Server;
      const port = portOf(server);
      expect((await rawRequest(port, 'GET /health/ready HTTP/1.1\r\nHost: localhost\r\n\r\n'))?.status).toBe(200);

      // A probe whose headers are under way when the stop begins: the stop answers it rather than dropping it.
      const socket = connect(port, '127.0.0.1');
      socket.on('error', () => undefined);
      const chunks: Buffer[] = [];
      socket.on('data', (chunk: Buffer) => chunks.push(chunk));
      const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
      await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
      socket.write('GET /health/ready HTTP/1.1\r\nHost: localhost\r\n');
      await new Promise((resolve) => setTimeout(resolve, 200));

      const stopped = new GracefulShutdown(server, t.app, 10_000).stop('test');
      socket.write('\r\n');
      await closed;
      const answer = Buffer.concat(chunks).toString('utf8');
      expect(answer).toMatch(/^HTTP\/1\.1 503 /);
      expect(answer).toContain('"message":"Not ready: shutting down"');
      expect(answer.toLowerCase()).toContain('connection: close');
      expect(await stopped).toBe(0);
      // Stopped: nothing listens any more.
      expect(await rawRequest(port, 'GET /health/live HTTP/1.1\r\nHost: localhost\r\n\r\n', 2000)).toBeNull();
    } finally {
      await t.db.destroy();
      await dropDatabase(t.config.databaseUrl);
      await removeKeysUnder(t.config.redisUrl, [t.config.queuePrefix]).catch(() => undefined);
    }
  });
});
