import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import pg from 'pg';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { redisConnection, type RedisSettings } from '../src/common/redis-connection.js';
import { dropDatabase, prepareDatabase } from '../src/database/database.bootstrap.js';
import { postgresConnection, type DatabaseSettings } from '../src/database/postgres-connection.js';
import { eventBody, projectId } from './support/events.js';
import { PostgresCluster } from './support/postgres-cluster.js';
import { RedisServer } from './support/redis-server.js';
import { signedHeaders } from './support/signing.js';
import { makeTlsFiles, type TlsFiles } from './support/tls-files.js';
import { eventually, freePort, startApp, TEST_API_KEY, TEST_SECRET, uniqueName, type TestApp } from './support/app.js';

const REDIS_PASSWORD = 'redis-test-password';
/** Not 0, so that a client that ignored the URL's database number would be seen writing elsewhere. */
const REDIS_DB = 5;
const run = promisify(execFile);

describe('Managed Postgres and Redis: TLS, password, database number, pool and statement timeout', () => {
  let tls: TlsFiles;
  let postgres: PostgresCluster;
  let redis: RedisServer;
  /** The Redis settings of a client given `ca` (null: Node's own CAs) and `password`. */
  const redisSettings = (ca: string | null, password = REDIS_PASSWORD): RedisSettings => ({
    redisUrl: `rediss://:${password}@localhost:${redis.port}/${REDIS_DB}`,
    redisCa: ca,
    redisSentinels: [],
    redisSentinelName: null,
    redisSentinelPassword: null,
  });
  const pem = (file: string) => readFileSync(file, 'utf8');
  /** The database settings of `database` on the test's cluster, with `sslmode` and `ca`. */
  const databaseSettings = (database: string, sslMode: string, ca: string | null): DatabaseSettings => ({
    databaseUrl: postgres.url(database, { sslmode: sslMode }),
    databaseCa: ca,
    databasePoolSize: 3,
    databaseStatementTimeoutMs: 1000,
  });
  /** Connects one client as `settings` say and answers whether the session is encrypted. */
  async function sessionIsEncrypted(settings: DatabaseSettings): Promise<boolean> {
    const client = new pg.Client(postgresConnection(settings, { database: 'postgres' }));
    await client.connect();
    try {
      const { rows } = await client.query<{ ssl: boolean }>('SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()');
      return rows[0].ssl;
    } finally {
      await client.end();
    }
  }
  /** `redis-cli` against the test's Redis (TLS, password), in database `db`. */
  const redisCli = async (db: number, ...args: string[]) =>
    (await run('redis-cli', [...redis.cliArgs, '-n', String(db), ...args], { timeout: 5000 })).stdout;

  beforeAll(async () => {
    tls = makeTlsFiles();
    postgres = PostgresCluster.start(await freePort(), { cert: tls.serverCert, key: tls.serverKey });
    redis = new RedisServer(await freePort(), {
      tls: { cert: tls.serverCert, key: tls.serverKey, ca: tls.caFile },
      password: REDIS_PASSWORD,
    });
    await redis.start();
  });
  afterAll(async () => {
    await redis?.stop();
    postgres?.stop();
    tls?.remove();
  });

  it('connects to Postgres as sslmode says: the certificate checked against DATABASE_CA_FILE, never in plain text', async () => {
    const ca = pem(tls.caFile);
    const otherCa = pem(tls.otherCaFile);
    expect(await sessionIsEncrypted(databaseSettings('postgres', 'verify-full', ca))).toBe(true);
    expect(await sessionIsEncrypted(databaseSettings('postgres', 'verify-ca', ca))).toBe(true);
    // require checks nothing without a CA (libpq's meaning) but still encrypts ...
    expect(await sessionIsEncrypted(databaseSettings('postgres', 'require', null))).toBe(true);
    // ... and with a CA it checks the chain, as verify-ca.
    await expect(sessionIsEncrypted(databaseSettings('postgres', 'require', otherCa))).rejects.toThrow(/self[- ]signed|unable to verify/i);
    await expect(sessionIsEncrypted(databaseSettings('postgres', 'verify-full', otherCa))).rejects.toThrow(
      /self[- ]signed|unable to verify/i,
    );
    // Node's own CAs do not know the test's.
    await expect(sessionIsEncrypted(databaseSettings('postgres', 'verify-full', null))).rejects.toThrow(/self[- ]signed|unable to verify/i);
    // The cluster refuses plain connections, so the successes above were over TLS.
    await expect(sessionIsEncrypted(databaseSettings('postgres', 'disable', null))).rejects.toThrow(/no encryption/);
  });

  it('connects to Redis over rediss:// with the password, checked against REDIS_CA_FILE', async () => {
    const attempt = async (settings: RedisSettings) => {
      const client = new Redis({ ...redisConnection(settings), lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
      // The TLS error comes as an event; connect() then rejects only with "Connection is closed".
      let failure: Error | undefined;
      client.on('error', (error: Error) => (failure ??= error));
      try {
        await client.connect();
        return await client.ping();
      } catch (error) {
        throw failure ?? error;
      } finally {
        client.disconnect();
      }
    };
    expect(await attempt(redisSettings(pem(tls.caFile)))).toBe('PONG');
    await expect(attempt(redisSettings(pem(tls.otherCaFile)))).rejects.toThrow(/self[- ]signed|unable to verify/i);
    await expect(attempt(redisSettings(pem(tls.caFile), 'wrong-password'))).rejects.toThrow(/WRONGPASS|invalid password/i);
  });

  describe('the service on both', () => {
    let t: TestApp;
    const http = () => request(t.app.getHttpServer());

    beforeAll(async () => {
      t = await startApp({
        DATABASE_URL: postgres.url(uniqueName('mh_tls'), { sslmode: 'verify-full' }),
        DATABASE_CA_FILE: tls.caFile,
        DATABASE_POOL_SIZE: '3',
        DATABASE_STATEMENT_TIMEOUT_MS: '1000',
        REDIS_URL: `rediss://:${REDIS_PASSWORD}@localhost:${redis.port}/${REDIS_DB}`,
        REDIS_CA_FILE: tls.caFile,
      });
    });
    afterAll(async () => {
      await t?.close();
    });

    it('takes events to their jobs through Bull, rate-limits in Redis, all in the database REDIS_URL names', async () => {
      const id = projectId();
      for (const type of ['video.started', 'video.completed']) {
        const body = eventBody(type as 'video.started', id);
        expect((await http().post('/webhook').set(signedHeaders(body, TEST_SECRET)).send(body)).status).toBe(200);
      }
      const job = await eventually(async () => {
        const answer = await http().get(`/jobs/${id}`).set('authorization', `Bearer ${TEST_API_KEY}`);
        return answer.status === 200 && answer.body.status === 'complete' ? answer : null;
      });
      // Counted by the rate limit, whose client connected as Bull's did.
      expect(job!.headers['x-ratelimit-limit']).toBe(String(t.config.apiRateLimit));
      expect(job!.body.events.map((event: { status: string }) => event.status)).toEqual(['processed', 'processed']);

      const keys = (await redisCli(REDIS_DB, '--scan', '--pattern', `${t.config.queuePrefix}:*`)).split('\n').filter(Boolean);
      expect(keys).toEqual(expect.arrayContaining([expect.stringMatching(/:magic-hour-events:/), expect.stringMatching(/:rate-limit:/)]));
      expect((await redisCli(0, '--scan', '--pattern', `${t.config.queuePrefix}:*`)).trim()).toBe('');

      const { rows } = await postgres.query<{ sessions: number; plain: number }>(
        `SELECT count(*)::int AS sessions, count(*) FILTER (WHERE NOT ssl)::int AS plain
           FROM pg_stat_activity JOIN pg_stat_ssl USING (pid) WHERE datname = $1`,
        [new URL(t.config.databaseUrl).pathname.slice(1)],
      );
      expect(rows[0].sessions).toBeGreaterThan(0);
      expect(rows[0].plain).toBe(0);
    });

    it('holds at most DATABASE_POOL_SIZE connections, and cancels a statement past DATABASE_STATEMENT_TIMEOUT_MS', async () => {
      const dataSource = t.app.get(DataSource);
      // Six statements of 300 ms through a pool of 3 take two rounds.
      const started = Date.now();
      await Promise.all(Array.from({ length: 6 }, () => dataSource.query('SELECT pg_sleep(0.3)')));
      const elapsed = Date.now() - started;
      expect(elapsed).toBeGreaterThanOrEqual(550);
      expect(elapsed).toBeLessThan(2000);

      const slow = Date.now();
      await expect(dataSource.query('SELECT pg_sleep(5)')).rejects.toMatchObject({ code: '57014' });
      expect(Date.now() - slow).toBeLessThan(3000);
    });
  });

  it('makes and drops the database over TLS too (what a first start and the tests do)', async () => {
    const settings = { ...databaseSettings(uniqueName('mh_tls'), 'verify-full', pem(tls.caFile)) };
    await prepareDatabase(settings);
    const database = new URL(settings.databaseUrl).pathname.slice(1);
    expect(
      (await postgres.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_database WHERE datname = $1', [database])).rows[0].n,
    ).toBe(1);
    await dropDatabase(settings);
    expect(
      (await postgres.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_database WHERE datname = $1', [database])).rows[0].n,
    ).toBe(0);
  });
});
