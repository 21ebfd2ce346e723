import { readFileSync } from 'node:fs';
import { parseDatabaseUrl, parseRedisUrl, parseSentinels, type SentinelAddress } from './connection-urls.js';
import {
  AppRole,
  EnvDto,
  InvalidEnvironmentError,
  parseTrustProxy,
  validateEnv,
  type LogFormat,
  type LogLevel,
  type TrustProxy,
} from './env.validation.js';

/** The typed configuration every part of the service reads, built once at boot. */
export interface AppConfig {
  readonly production: boolean;
  readonly port: number;
  /** Postgres, with `sslmode` for TLS (see `parseDatabaseUrl`). */
  readonly databaseUrl: string;
  /** The PEM of `DATABASE_CA_FILE`, read at boot; `null`: Node's own CAs check the certificate. */
  readonly databaseCa: string | null;
  /** Connections one process keeps open to Postgres. */
  readonly databasePoolSize: number;
  /** The longest one statement may run (migrations excepted); keeps a stuck database from holding requests. */
  readonly databaseStatementTimeoutMs: number;
  /** Redis, `rediss://` for TLS, with a password and a database number; with Sentinels, its host is not used. */
  readonly redisUrl: string;
  /** The PEM of `REDIS_CA_FILE`, read at boot; `null`: Node's own CAs check the certificate. */
  readonly redisCa: string | null;
  /** Sentinels that name the master (`REDIS_SENTINELS`); empty: `redisUrl`'s host is the Redis. */
  readonly redisSentinels: readonly SentinelAddress[];
  /** The master's name at the Sentinels; set whenever `redisSentinels` is. */
  readonly redisSentinelName: string | null;
  readonly redisSentinelPassword: string | null;
  /** Webhook signing secrets; any one may match, so a secret can be rotated without downtime. Empty: signing off. */
  readonly webhookSecrets: readonly string[];
  readonly webhookToleranceSeconds: number;
  /** Bearer keys for the REST API. Empty: the API is open (refused in production). */
  readonly apiKeys: readonly string[];
  /** REST requests a minute per API key, or per address for requests without a valid key. */
  readonly apiRateLimit: number;
  /**
   * Express's `trust proxy`: which proxies' `X-Forwarded-For` (the client address the rate limit counts)
   * and `X-Forwarded-Proto` (whether the console cookie is `Secure`) are believed. `false`: none.
   */
  readonly trustProxy: TrustProxy;
  readonly role: AppRole;
  /** Bull's key prefix in Redis; lets several deployments (or test runs) share one Redis. */
  readonly queuePrefix: string;
  readonly webhookBodyLimitBytes: number;
  /** Runs of one handler for one event before it becomes a dead letter. */
  readonly handlerAttempts: number;
  /** Longest one handler run may take; then its `signal` aborts and the run fails. */
  readonly handlerTimeoutMs: number;
  /** First delay before a failed handler runs again; doubles each time. */
  readonly handlerBackoffMs: number;
  /** Where the shipped download handler stores outputs; `null`: that handler is off. */
  readonly downloadDir: string | null;
  /** Largest output the download handler stores. */
  readonly downloadMaxBytes: number;
  /** Least severe level written. */
  readonly logLevel: LogLevel;
  /** `null`: pretty when not in production and stdout is a terminal, JSON otherwise. */
  readonly logFormat: LogFormat | null;
  /** Bearer token `GET /metrics` requires; `null`: it is open (keep the port internal). */
  readonly metricsToken: string | null;
  /**
   * Longest a graceful stop (SIGTERM, SIGINT) may take: answering the requests in flight, finishing the
   * queue jobs under way, closing connections. Past it the process exits with code 1.
   */
  readonly shutdownTimeoutMs: number;
  /** Longest a client may take to send a whole request (headers and body); then it is answered 408. */
  readonly requestTimeoutMs: number;
  /** Most client connections held at once; past it a new connection is closed as soon as it is accepted. */
  readonly maxConnections: number;
  /** Days `processed` and `ignored` events are kept, as configured (retention applies its floor). */
  readonly eventRetentionDays: number;
  /** Days `failed`, `quarantined` and `stale` events are kept unless replayed, as configured. */
  readonly unresolvedRetentionDays: number;
  /** Days a finished job is kept after its last change; `null`: jobs are kept. */
  readonly jobRetentionDays: number | null;
  /** Days a file the download handler stored is kept; `null`: files are kept. */
  readonly downloadRetentionDays: number | null;
  /** Seconds between a worker's retention passes. */
  readonly retentionIntervalSeconds: number;
  /** Reconciliation with Magic Hour's API; `null`: off (no `MAGIC_HOUR_API_KEY`). */
  readonly reconcile: ReconcileConfig | null;
}

/** How the worker reconciles jobs with Magic Hour's API. */
export interface ReconcileConfig {
  /** Magic Hour's API key (a secret: never logged). */
  readonly apiKey: string;
  /** The API's base URL. */
  readonly apiUrl: string;
  /** Longest one API call may take; then it counts as a timeout and is tried again later. */
  readonly apiTimeoutMs: number;
  /** A job without news this long is checked with the API. */
  readonly afterSeconds: number;
  /** API calls a second for the whole deployment. */
  readonly maxPerSecond: number;
  /** How often each worker looks for jobs due a check. */
  readonly intervalMs: number;
}

/** Injection token of the `AppConfig`. */
export const APP_CONFIG = Symbol('APP_CONFIG');

export const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/magic_hour_webhooks';
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';
export const DEFAULT_DATABASE_POOL_SIZE = 20;
/** Below Magic Hour's 10 s: a stuck statement fails the request in time for a retry rather than holding it. */
export const DEFAULT_DATABASE_STATEMENT_TIMEOUT_MS = 5000;
/**
 * Below the 1,024 open files a process gets by default (systemd, Docker), leaving the rest for the
 * Postgres pool, the Redis connections, log and download files.
 */
export const DEFAULT_MAX_CONNECTIONS = 800;
/** Magic Hour's API. */
export const DEFAULT_MAGIC_HOUR_API_URL = 'https://api.magichour.ai';

const list = (value: string | undefined): string[] =>
  (value ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0);

/** The PEM file `variable` names, read now so that a wrong path stops the start with a clear message. */
function readPem(path: string | undefined, variable: string): string | null {
  if (path === undefined || path.trim() === '') return null;
  let pem: string;
  try {
    pem = readFileSync(path.trim(), 'utf8');
  } catch (error) {
    throw new InvalidEnvironmentError(`${variable} cannot be read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new InvalidEnvironmentError(`${variable} holds no PEM certificate`);
  return pem;
}

/** Builds the `AppConfig` from an already validated environment; refuses an unsafe production setup. */
export function buildConfig(env: EnvDto): AppConfig {
  const production = env.NODE_ENV === 'production';
  const config: AppConfig = {
    production,
    port: env.PORT ?? 3000,
    databaseUrl: env.DATABASE_URL ?? DEFAULT_DATABASE_URL,
    databaseCa: readPem(env.DATABASE_CA_FILE, 'DATABASE_CA_FILE'),
    databasePoolSize: env.DATABASE_POOL_SIZE ?? DEFAULT_DATABASE_POOL_SIZE,
    databaseStatementTimeoutMs: env.DATABASE_STATEMENT_TIMEOUT_MS ?? DEFAULT_DATABASE_STATEMENT_TIMEOUT_MS,
    redisUrl: env.REDIS_URL ?? DEFAULT_REDIS_URL,
    redisCa: readPem(env.REDIS_CA_FILE, 'REDIS_CA_FILE'),
    redisSentinels: env.REDIS_SENTINELS ? parseSentinels(env.REDIS_SENTINELS) : [],
    redisSentinelName: env.REDIS_SENTINEL_NAME ?? null,
    redisSentinelPassword: env.REDIS_SENTINEL_PASSWORD ?? null,
    webhookSecrets: list(env.MAGIC_HOUR_WEBHOOK_SECRET),
    webhookToleranceSeconds: env.WEBHOOK_TOLERANCE_SECONDS ?? 300,
    apiKeys: list(env.API_KEYS),
    apiRateLimit: env.API_RATE_LIMIT ?? 600,
    trustProxy: parseTrustProxy(env.TRUST_PROXY),
    role: env.APP_ROLE ?? 'all',
    queuePrefix: env.QUEUE_PREFIX ?? 'bull',
    webhookBodyLimitBytes: env.WEBHOOK_BODY_LIMIT_BYTES ?? 256 * 1024,
    handlerAttempts: env.HANDLER_ATTEMPTS ?? 5,
    handlerTimeoutMs: env.HANDLER_TIMEOUT_MS ?? 60_000,
    handlerBackoffMs: env.HANDLER_BACKOFF_MS ?? 2_000,
    downloadDir: env.DOWNLOAD_DIR?.trim() || null,
    downloadMaxBytes: env.DOWNLOAD_MAX_BYTES ?? 2 * 1024 ** 3,
    logLevel: env.LOG_LEVEL ?? 'info',
    logFormat: env.LOG_FORMAT ?? null,
    metricsToken: env.METRICS_TOKEN ?? null,
    shutdownTimeoutMs: env.SHUTDOWN_TIMEOUT_MS ?? 10_000,
    requestTimeoutMs: env.REQUEST_TIMEOUT_MS ?? 10_000,
    maxConnections: env.MAX_CONNECTIONS ?? DEFAULT_MAX_CONNECTIONS,
    eventRetentionDays: env.EVENT_RETENTION_DAYS ?? 30,
    unresolvedRetentionDays: env.UNRESOLVED_RETENTION_DAYS ?? 90,
    jobRetentionDays: env.JOB_RETENTION_DAYS ?? null,
    downloadRetentionDays: env.DOWNLOAD_RETENTION_DAYS ?? null,
    retentionIntervalSeconds: env.RETENTION_INTERVAL_SECONDS ?? 3600,
    reconcile: env.MAGIC_HOUR_API_KEY?.trim()
      ? {
          apiKey: env.MAGIC_HOUR_API_KEY.trim(),
          apiUrl: (env.MAGIC_HOUR_API_URL ?? DEFAULT_MAGIC_HOUR_API_URL).replace(/\/+$/, ''),
          apiTimeoutMs: env.MAGIC_HOUR_API_TIMEOUT_MS ?? 10_000,
          afterSeconds: env.RECONCILE_AFTER_SECONDS ?? 900,
          maxPerSecond: env.RECONCILE_MAX_PER_SECOND ?? 2,
          intervalMs: env.RECONCILE_INTERVAL_MS ?? 5_000,
        }
      : null,
  };
  if (config.redisSentinels.length > 0 !== (config.redisSentinelName !== null)) {
    throw new InvalidEnvironmentError('REDIS_SENTINELS and REDIS_SENTINEL_NAME go together: set both, or neither');
  }
  // A CA with a plaintext connection would be ignored in silence: the operator meant TLS.
  if (config.databaseCa !== null && parseDatabaseUrl(config.databaseUrl).sslMode === 'disable') {
    throw new InvalidEnvironmentError('DATABASE_CA_FILE needs TLS: add ?sslmode=verify-full (or verify-ca, require) to DATABASE_URL');
  }
  if (config.redisCa !== null && !parseRedisUrl(config.redisUrl).tls) {
    throw new InvalidEnvironmentError('REDIS_CA_FILE needs TLS: use a rediss:// REDIS_URL');
  }
  if (production) {
    const missing = [
      config.webhookSecrets.length === 0 ? 'MAGIC_HOUR_WEBHOOK_SECRET' : null,
      config.apiKeys.length === 0 ? 'API_KEYS' : null,
    ].filter((name): name is string => name !== null);
    if (missing.length > 0) {
      throw new InvalidEnvironmentError(`NODE_ENV=production requires ${missing.join(' and ')}`);
    }
  }
  return config;
}

/** Reads and validates the environment once: the only place `process.env` is read. */
export function loadConfig(raw: Record<string, string | undefined> = process.env): AppConfig {
  return buildConfig(validateEnv(raw));
}

/**
 * The configuration of an empty environment: every field at its default. The one source of defaults
 * for `MagicHourWebhooksModule`'s options, so a field added to `buildConfig` gets its default there too.
 */
export function defaultConfig(): AppConfig {
  return buildConfig(validateEnv({}));
}

/** Whether this process takes the HTTP role. */
export const runsApi = (config: AppConfig): boolean => config.role !== 'worker';
/** Whether this process takes the worker role. */
export const runsWorker = (config: AppConfig): boolean => config.role !== 'api';
