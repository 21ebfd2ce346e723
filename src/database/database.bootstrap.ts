import { Logger } from '@nestjs/common';
import pg from 'pg';
import { DataSource, type DataSourceOptions, type QueryRunner } from 'typeorm';
import { dataSourceOptions, MAGIC_HOUR_MIGRATIONS, MIGRATIONS_TABLE_NAME } from './data-source.options.js';
import { databaseSettings, postgresConnection, type DatabaseTarget } from './postgres-connection.js';

/** Arbitrary but fixed: serialises migrations when several processes start at once. */
const MIGRATION_LOCK_ID = 7_351_902_114;

/**
 * Whether `error` says the database exists: "database already exists", or, when two starts create it
 * at the same instant, the unique index of the catalogue itself.
 */
const isDuplicateDatabase = (error: unknown): boolean => {
  const { code, constraint } = error as { code?: string; constraint?: string };
  return code === '42P04' || (code === '23505' && constraint === 'pg_database_datname_index');
};

const logger = new Logger('Database');

function databaseName(databaseUrl: string): string {
  const name = decodeURIComponent(new URL(databaseUrl).pathname.replace(/^\//, ''));
  if (!name) {
    throw new Error('DATABASE_URL names no database');
  }
  return name;
}

/** A client of the server's `postgres` database, over the same TLS as the service's own connections. */
async function maintenanceClient(target: DatabaseTarget): Promise<pg.Client> {
  // No statement timeout: creating or dropping a database may wait for a checkpoint.
  const client = new pg.Client({ ...postgresConnection(target, { database: 'postgres' }), statement_timeout: undefined });
  await client.connect();
  return client;
}

/** Creates the database named in the database URL when it does not exist yet. */
export async function ensureDatabase(target: DatabaseTarget): Promise<void> {
  const name = databaseName(databaseSettings(target).databaseUrl);
  const client = await maintenanceClient(target);
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount === 0) {
      await client.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
      logger.log(`Created database ${name}`);
    }
  } catch (error) {
    if (!isDuplicateDatabase(error)) throw error;
  } finally {
    await client.end();
  }
}

/** Drops the database named in the database URL; for tests and benchmarks that made their own. */
export async function dropDatabase(target: DatabaseTarget): Promise<void> {
  const client = await maintenanceClient(target);
  try {
    await client.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(databaseName(databaseSettings(target).databaseUrl))} WITH (FORCE)`);
  } finally {
    await client.end();
  }
}

/** How often a process waiting for another's migrations asks for the lock again. */
const MIGRATION_LOCK_POLL_MS = 200;

/**
 * Takes the migration lock on `runner`'s connection, asking again until it is free. Not by waiting
 * inside `pg_advisory_lock`: a statement waiting there holds a snapshot, and the holder's
 * `CREATE INDEX CONCURRENTLY` waits for every older snapshot to go, so the two would wait for each
 * other for ever, unseen by Postgres's deadlock check.
 */
async function takeMigrationLock(runner: QueryRunner): Promise<void> {
  for (let waited = false; ; waited = true) {
    const [{ locked }] = (await runner.query('SELECT pg_try_advisory_lock($1) AS locked', [MIGRATION_LOCK_ID])) as Array<{
      locked: boolean;
    }>;
    if (locked) return;
    if (!waited) logger.log('Waiting for another process to finish the migrations');
    await new Promise((resolve) => setTimeout(resolve, MIGRATION_LOCK_POLL_MS));
  }
}

/** Applies the pending migrations of `options` while holding the advisory lock, so several processes migrate once. */
async function migrate(options: DataSourceOptions): Promise<void> {
  const dataSource = new DataSource(options);
  await dataSource.initialize();
  const runner = dataSource.createQueryRunner();
  try {
    await runner.connect();
    await takeMigrationLock(runner);
    try {
      // In the transaction mode of `dataSourceOptions`, as the TypeORM CLI runs them.
      const applied = await dataSource.runMigrations();
      if (applied.length > 0) logger.log(`Applied migrations: ${applied.map((m) => m.name).join(', ')}`);
    } finally {
      await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_ID]);
    }
  } finally {
    await runner.release();
    await dataSource.destroy();
  }
}

/**
 * Makes the database ready: creates it if missing, then applies pending migrations while holding an
 * advisory lock, so that several processes starting together migrate once.
 */
export async function prepareDatabase(target: DatabaseTarget): Promise<void> {
  await ensureDatabase(target);
  // Without the statement timeout: a migration may build an index on a large table.
  await migrate({ ...dataSourceOptions(target), extra: { max: 2 } });
}

/**
 * Applies this service's pending migrations to the database of a host app's data source, on a short-lived
 * connection of its own (the host's connection settings, this service's migrations and migrations table).
 * @throws Error when the data source is not Postgres
 */
export async function migrateHostDatabase(host: DataSource): Promise<void> {
  if (host.options.type !== 'postgres') {
    throw new Error(`MagicHourWebhooksModule needs a Postgres data source; the host's is ${host.options.type}`);
  }
  await migrate({
    ...host.options,
    entities: [],
    subscribers: [],
    migrations: MAGIC_HOUR_MIGRATIONS,
    migrationsTableName: MIGRATIONS_TABLE_NAME,
    migrationsTransactionMode: 'each',
    migrationsRun: false,
    synchronize: false,
    poolSize: undefined,
    extra: { ...(host.options.extra as object | undefined), max: 2 },
  });
}
