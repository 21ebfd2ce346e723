import type { PoolConfig } from 'pg';
import { DEFAULT_DATABASE_POOL_SIZE, DEFAULT_DATABASE_STATEMENT_TIMEOUT_MS, type AppConfig } from '../config/app.config.js';
import { parseDatabaseUrl, type SslMode } from '../config/connection-urls.js';

/** What a Postgres connection is built from: the `DATABASE_*` part of the configuration. */
export type DatabaseSettings = Pick<AppConfig, 'databaseUrl' | 'databaseCa' | 'databasePoolSize' | 'databaseStatementTimeoutMs'>;

/** A database URL alone (tests, the benchmark) stands for the settings with every other value at its default. */
export type DatabaseTarget = DatabaseSettings | string;

/** How long a request waits for a connection before intake answers 503 instead of hanging. */
export const DATABASE_CONNECT_TIMEOUT_MS = 3000;

/** The settings of `target`, a URL alone getting the defaults. */
export function databaseSettings(target: DatabaseTarget): DatabaseSettings {
  return typeof target === 'string'
    ? {
        databaseUrl: target,
        databaseCa: null,
        databasePoolSize: DEFAULT_DATABASE_POOL_SIZE,
        databaseStatementTimeoutMs: DEFAULT_DATABASE_STATEMENT_TIMEOUT_MS,
      }
    : target;
}

/** The TLS options a Postgres connection takes (a subset both pg and TypeORM's types accept). */
export interface PostgresTls {
  ca?: string;
  rejectUnauthorized: boolean;
  checkServerIdentity?: () => undefined;
}

/**
 * node-postgres's TLS options for an `sslmode`, as libpq reads it: `require` encrypts without checking
 * the certificate, unless a CA is given, which makes it `verify-ca`; `verify-ca` checks the chain;
 * `verify-full` checks the chain and that the certificate names the host.
 */
function tlsOptions(mode: SslMode, ca: string | null): false | PostgresTls {
  if (mode === 'disable') return false;
  const checkChain = mode !== 'require' || ca !== null;
  return {
    ...(ca === null ? {} : { ca }),
    rejectUnauthorized: checkChain,
    // Node checks the host name as part of the chain check; verify-ca keeps the chain check only.
    ...(mode === 'verify-full' ? {} : { checkServerIdentity: () => undefined }),
  };
}

/**
 * The one description of a connection to Postgres, for every pool and client the service opens (the
 * TypeORM data source, the migrations, the console's sessions, creating the database): the URL without
 * its `sslmode` (pg would let it override the TLS options), TLS as `sslmode` and `DATABASE_CA_FILE`
 * say, the pool size, and the statement timeout. `database` names another database on the same server
 * (`postgres`, to create the service's own).
 */
export function postgresConnection(
  target: DatabaseTarget,
  options: { database?: string } = {},
): Omit<PoolConfig, 'ssl'> & { ssl: false | PostgresTls } {
  const settings = databaseSettings(target);
  const { url, sslMode } = parseDatabaseUrl(settings.databaseUrl);
  const connectionUrl = new URL(url);
  if (options.database !== undefined) connectionUrl.pathname = `/${encodeURIComponent(options.database)}`;
  return {
    connectionString: connectionUrl.toString(),
    ssl: tlsOptions(sslMode, settings.databaseCa),
    max: settings.databasePoolSize,
    connectionTimeoutMillis: DATABASE_CONNECT_TIMEOUT_MS,
    statement_timeout: settings.databaseStatementTimeoutMs,
    idle_in_transaction_session_timeout: settings.databaseStatementTimeoutMs * 2,
  };
}
