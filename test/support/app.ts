import type { INestApplication } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { DataSource } from 'typeorm';
import { createApp } from '../../src/app.setup.js';
import { buildConfig, type AppConfig } from '../../src/config/app.config.js';
import { validateEnv } from '../../src/config/env.validation.js';
import { dropDatabase } from '../../src/database/database.bootstrap.js';
import { postgresConnection } from '../../src/database/postgres-connection.js';
import { removeKeysUnder } from './redis-keys.js';

/** The local Postgres and Redis the tests use (the machine's own, on their default ports). */
export const POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432';
export const REDIS_URL = 'redis://127.0.0.1:6379';

export const TEST_SECRET = 'whsec_test_primary';
export const TEST_API_KEY = 'test-api-key';

/** A running app on a database and queue prefix of its own, with direct SQL access for assertions. */
export interface TestApp {
  app: INestApplication;
  config: AppConfig;
  /** A separate connection to the app's database, for checking what was stored. */
  db: DataSource;
  /** Stops the app and drops its database, unless `keepDatabase` (for a restart on the same data). */
  close(options?: { keepDatabase?: boolean }): Promise<void>;
}

/** A name no other test run uses, for databases and queue prefixes. */
export const uniqueName = (prefix: string): string => `${prefix}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;

/** Builds a test configuration: its own database and queue prefix; `env` overrides any variable. */
export function testConfig(env: Record<string, string> = {}): AppConfig {
  return buildConfig(
    validateEnv({
      NODE_ENV: 'test',
      DATABASE_URL: `${POSTGRES_URL}/${uniqueName('mh_test')}`,
      REDIS_URL,
      QUEUE_PREFIX: uniqueName('mhq'),
      MAGIC_HOUR_WEBHOOK_SECRET: TEST_SECRET,
      API_KEYS: TEST_API_KEY,
      // Tests assert on what the service does, not on its logs; only errors are worth seeing in a run.
      LOG_LEVEL: 'error',
      LOG_FORMAT: 'json',
      ...env,
    }),
  );
}

/** Starts the whole app as `main.ts` does (database created and migrated) and listens on a free port. */
export async function startApp(
  env: Record<string, string> = {},
  config: AppConfig = testConfig(env),
  options: Parameters<typeof createApp>[1] = {},
): Promise<TestApp> {
  const app = await createApp(config, options);
  await app.listen(0, '127.0.0.1');
  // Connected as the app is (TLS included), with a pool of its own.
  const { connectionString, ssl } = postgresConnection(config);
  const db = new DataSource({ type: 'postgres', url: connectionString, ssl, extra: { max: 2 } });
  await db.initialize();
  return {
    app,
    config,
    db,
    async close(options = {}) {
      await app.close();
      await db.destroy();
      if (options.keepDatabase) return;
      try {
        await dropDatabase(config);
      } finally {
        // Leave nothing of this run in the shared Redis, including what the app queued while it closed.
        // Not when that Redis is gone (a test stopped it): then there is nothing to clean.
        await removeKeysUnder(config.redisUrl, [config.queuePrefix]).catch(() => undefined);
      }
    },
  };
}

/** Polls `check` until it returns a truthy value or `timeoutMs` passes; returns the value. */
export async function eventually<T>(check: () => Promise<T>, timeoutMs = 15000, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
      last = value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`Condition not met within ${timeoutMs} ms; last: ${String(last)}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** A TCP port nothing listens on right now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}
