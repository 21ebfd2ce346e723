import { plainToInstance, Transform } from 'class-transformer';
import {
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  Min,
  Validate,
  validateSync,
  type ValidationArguments,
  ValidatorConstraint,
  type ValidatorConstraintInterface,
} from 'class-validator';
import proxyAddr from 'proxy-addr';
import { parseDatabaseUrl, parseRedisUrl, parseSentinels } from './connection-urls.js';

/** pino's levels, most to least severe, and `silent`. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** How log lines are written: one JSON object a line, or coloured text for a person. */
export const LOG_FORMATS = ['json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** The roles one process can take: HTTP intake and REST, queue worker, or both. */
export const APP_ROLES = ['api', 'worker', 'all'] as const;
export type AppRole = (typeof APP_ROLES)[number];

/**
 * Which proxies' `X-Forwarded-*` headers are believed, as Express's `trust proxy` takes it: `false`
 * (none), `true` (any), a hop count, or the addresses, CIDR ranges and names (`loopback`, `linklocal`,
 * `uniquelocal`) of the trusted proxies.
 */
export type TrustProxy = boolean | number | readonly string[];

/** The proxies in a `TRUST_PROXY` list, one per comma, or the position (from 1) of the first that is not one. */
function trustedProxies(value: string): string[] | { invalidAt: number } {
  const items = value.split(',').map((item) => item.trim());
  const invalidAt = items.findIndex((item) => {
    try {
      // proxy-addr is what Express compiles the list with, so what passes here Express takes.
      proxyAddr.compile(item);
      return item === '';
    } catch {
      return true;
    }
  });
  return invalidAt < 0 ? items : { invalidAt: invalidAt + 1 };
}

/**
 * Reads a `TRUST_PROXY` value (unset: `false`); throws on one that `validateEnv` refuses.
 * `true`/`false` and a hop count become Express's boolean and number, anything else a list.
 */
export function parseTrustProxy(value: string | undefined): TrustProxy {
  const text = (value ?? 'false').trim();
  if (/^(true|false)$/i.test(text)) return text.toLowerCase() === 'true';
  if (/^\d+$/.test(text)) return Number(text);
  const proxies = trustedProxies(text);
  if (!Array.isArray(proxies)) throw new Error(`TRUST_PROXY item ${proxies.invalidAt} is not an address, a CIDR range or a name`);
  return proxies;
}

/** Validates `TRUST_PROXY`; its message names the bad item by position, never by value (see `logStartupFailure`). */
@ValidatorConstraint({ name: 'trustProxy' })
class TrustProxyConstraint implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    if (typeof value !== 'string') return false;
    try {
      parseTrustProxy(value);
      return true;
    } catch {
      return false;
    }
  }

  defaultMessage(args: ValidationArguments): string {
    const proxies = typeof args.value === 'string' ? trustedProxies(args.value) : { invalidAt: 1 };
    const where = Array.isArray(proxies) ? '' : ` (item ${proxies.invalidAt} is not one)`;
    return (
      `TRUST_PROXY must be true, false, a hop count, or a comma-separated list of proxy addresses, ` +
      `CIDR ranges, loopback, linklocal or uniquelocal, such as loopback or 10.0.0.0/8,172.16.0.0/12${where}`
    );
  }
}

/**
 * Validates a variable with the parser that reads it later, so that what passes here is read the same
 * way; the message is the parser's, which never quotes the value.
 */
@ValidatorConstraint({ name: 'parsedBy' })
class ParsedByConstraint implements ValidatorConstraintInterface {
  validate(value: unknown, args: ValidationArguments): boolean {
    return typeof value === 'string' && this.problem(value, args) === null;
  }

  defaultMessage(args: ValidationArguments): string {
    return (typeof args.value === 'string' && this.problem(args.value, args)) || `${args.property} must be a string`;
  }

  private problem(value: string, args: ValidationArguments): string | null {
    const [parse] = args.constraints as [(value: string) => unknown];
    try {
      parse(value);
      return null;
    } catch (error) {
      return (error as Error).message;
    }
  }
}

const toInt = ({ value }: { value: unknown }) => (typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value) : value);

/**
 * The environment as the service reads it. Every variable the service knows is declared here and
 * checked once at boot; nothing else reads `process.env`.
 */
export class EnvDto {
  @IsOptional()
  @IsIn(['development', 'production', 'test'])
  NODE_ENV?: string;

  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(65535)
  PORT?: number;

  /** With `sslmode` (`disable`, `require`, `verify-ca`, `verify-full`) for TLS. */
  @IsOptional()
  @Validate(ParsedByConstraint, [parseDatabaseUrl])
  DATABASE_URL?: string;

  /** A PEM file of the CA (or CAs) Postgres's certificate is checked against. */
  @IsOptional()
  @IsString()
  DATABASE_CA_FILE?: string;

  /** Connections one process keeps open to Postgres. */
  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(2)
  @Max(1000)
  DATABASE_POOL_SIZE?: number;

  /** The longest one statement may run before Postgres cancels it (migrations excepted). */
  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(100)
  @Max(3_600_000)
  DATABASE_STATEMENT_TIMEOUT_MS?: number;

  /** `rediss://` for TLS; a password and a database number (`/2`) in the URL. */
  @IsOptional()
  @Validate(ParsedByConstraint, [parseRedisUrl])
  REDIS_URL?: string;

  /** A PEM file of the CA (or CAs) Redis's certificate is checked against (`rediss://`). */
  @IsOptional()
  @IsString()
  REDIS_CA_FILE?: string;

  /** Redis Sentinels, `host:port,host:port`: the master is asked of them, and followed when it fails over. */
  @IsOptional()
  @Validate(ParsedByConstraint, [parseSentinels])
  REDIS_SENTINELS?: string;

  /** The master's name the Sentinels know it by. */
  @IsOptional()
  @Matches(/^[A-Za-z0-9._-]{1,128}$/, { message: 'REDIS_SENTINEL_NAME may hold letters, digits, ., _ and - (128 at most)' })
  REDIS_SENTINEL_NAME?: string;

  /** The Sentinels' own password (`requirepass` in sentinel.conf), when they have one. */
  @IsOptional()
  @IsString()
  REDIS_SENTINEL_PASSWORD?: string;

  @IsOptional()
  @IsString()
  MAGIC_HOUR_WEBHOOK_SECRET?: string;

  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(86400)
  WEBHOOK_TOLERANCE_SECONDS?: number;

  @IsOptional()
  @IsString()
  API_KEYS?: string;

  /** REST requests a minute per API key (or, without a valid key, per address). */
  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  API_RATE_LIMIT?: number;

  /** Proxies whose `X-Forwarded-For` and `X-Forwarded-Proto` are believed (Express's `trust proxy`); none by default. */
  @IsOptional()
  @Validate(TrustProxyConstraint)
  TRUST_PROXY?: string;

  @IsOptional()
  @IsIn(APP_ROLES)
  APP_ROLE?: AppRole;

  @IsOptional()
  @Matches(/^[A-Za-z0-9_-]{1,64}$/, { message: 'QUEUE_PREFIX may hold letters, digits, _ and - (64 at most)' })
  QUEUE_PREFIX?: string;

  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(1024)
  @Max(10 * 1024 * 1024)
  WEBHOOK_BODY_LIMIT_BYTES?: number;

  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(100)
  HANDLER_ATTEMPTS?: number;

  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(10)
  @Max(3_600_000)
  HANDLER_TIMEOUT_MS?: number;

  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(10)
  @Max(3_600_000)
  HANDLER_BACKOFF_MS?: number;

  @IsOptional()
  @IsString()
  DOWNLOAD_DIR?: string;

  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(1)
  DOWNLOAD_MAX_BYTES?: number;

  @IsOptional()
  @IsIn(LOG_LEVELS)
  LOG_LEVEL?: LogLevel;

  @IsOptional()
  @IsIn(LOG_FORMATS)
  LOG_FORMAT?: LogFormat;

  @IsOptional()
  @Matches(/^\S{16,}$/, { message: 'METRICS_TOKEN must be at least 16 characters without spaces' })
  METRICS_TOKEN?: string;

  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(100)
  @Max(600_000)
  SHUTDOWN_TIMEOUT_MS?: number;

  /** Longest a client may take to send a whole request, headers and body. */
  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(1000)
  @Max(300_000)
  REQUEST_TIMEOUT_MS?: number;

  /** Magic Hour's API key: turns reconciliation with Magic Hour's API on. */
  @IsOptional()
  @IsString()
  MAGIC_HOUR_API_KEY?: string;

  /** Magic Hour's API base URL: a proxy, or a fake in tests. */
  @IsOptional()
  @Matches(/^https?:\/\/[^\s/]+(\/\S*)?$/, { message: 'MAGIC_HOUR_API_URL must be an http:// or https:// URL' })
  MAGIC_HOUR_API_URL?: string;

  /** How long a job may go without news before the API is asked about it. */
  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(7 * 86400)
  RECONCILE_AFTER_SECONDS?: number;

  /** API calls a second for the whole deployment, shared through Redis. */
  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(1000)
  RECONCILE_MAX_PER_SECOND?: number;

  /** How often each worker looks for jobs due a check. */
  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(100)
  @Max(3_600_000)
  RECONCILE_INTERVAL_MS?: number;

  /** Longest one call to Magic Hour's API may take. */
  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(100)
  @Max(120_000)
  MAGIC_HOUR_API_TIMEOUT_MS?: number;

  /** Most client connections the HTTP server holds at once. */
  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(10)
  @Max(1_000_000)
  MAX_CONNECTIONS?: number;

  /** Days `processed` and `ignored` events are kept (never under the 3-day floor). */
  @IsOptional()
  @Transform(toInt)
  @IsInt({ message: 'EVENT_RETENTION_DAYS must be a whole number of days' })
  @Min(1)
  @Max(36_500)
  EVENT_RETENTION_DAYS?: number;

  /** Days `failed`, `quarantined` and `stale` events are kept unless replayed (never under the floor). */
  @IsOptional()
  @Transform(toInt)
  @IsInt({ message: 'UNRESOLVED_RETENTION_DAYS must be a whole number of days' })
  @Min(1)
  @Max(36_500)
  UNRESOLVED_RETENTION_DAYS?: number;

  /** Days a finished job is kept after its last change; unset: jobs are kept. */
  @IsOptional()
  @Transform(toInt)
  @IsInt({ message: 'JOB_RETENTION_DAYS must be a whole number of days (unset keeps jobs)' })
  @Min(1)
  @Max(36_500)
  JOB_RETENTION_DAYS?: number;

  /** Days a file the download handler stored is kept; unset: files are kept. */
  @IsOptional()
  @Transform(toInt)
  @IsInt({ message: 'DOWNLOAD_RETENTION_DAYS must be a whole number of days (unset keeps files)' })
  @Min(1)
  @Max(36_500)
  DOWNLOAD_RETENTION_DAYS?: number;

  /** Seconds between retention passes. */
  @IsOptional()
  @Transform(toInt)
  @IsInt({ message: 'RETENTION_INTERVAL_SECONDS must be a whole number of seconds' })
  @Min(1)
  @Max(604_800)
  RETENTION_INTERVAL_SECONDS?: number;
}

/** Thrown at boot when the environment is invalid; the message lists every problem. */
export class InvalidEnvironmentError extends Error {
  override readonly name = 'InvalidEnvironmentError';
}

/** Validates the raw environment and returns it typed; throws `InvalidEnvironmentError` listing all problems. */
export function validateEnv(raw: Record<string, string | undefined>): EnvDto {
  const known = Object.fromEntries(Object.entries(raw).filter(([key, value]) => key in ENV_KEYS && value !== undefined && value !== ''));
  const env = plainToInstance(EnvDto, known);
  const errors = validateSync(env, { forbidUnknownValues: true });
  if (errors.length > 0) {
    const lines = errors.flatMap((e) => Object.values(e.constraints ?? {}).map((m) => `  - ${m}`));
    throw new InvalidEnvironmentError(`Invalid environment:\n${lines.join('\n')}`);
  }
  return env;
}

const ENV_KEYS: Record<keyof EnvDto, true> = {
  NODE_ENV: true,
  PORT: true,
  DATABASE_URL: true,
  DATABASE_CA_FILE: true,
  DATABASE_POOL_SIZE: true,
  DATABASE_STATEMENT_TIMEOUT_MS: true,
  REDIS_URL: true,
  REDIS_CA_FILE: true,
  REDIS_SENTINELS: true,
  REDIS_SENTINEL_NAME: true,
  REDIS_SENTINEL_PASSWORD: true,
  MAGIC_HOUR_WEBHOOK_SECRET: true,
  WEBHOOK_TOLERANCE_SECONDS: true,
  API_KEYS: true,
  API_RATE_LIMIT: true,
  TRUST_PROXY: true,
  APP_ROLE: true,
  QUEUE_PREFIX: true,
  WEBHOOK_BODY_LIMIT_BYTES: true,
  HANDLER_ATTEMPTS: true,
  HANDLER_TIMEOUT_MS: true,
  HANDLER_BACKOFF_MS: true,
  DOWNLOAD_DIR: true,
  DOWNLOAD_MAX_BYTES: true,
  LOG_LEVEL: true,
  LOG_FORMAT: true,
  METRICS_TOKEN: true,
  SHUTDOWN_TIMEOUT_MS: true,
  REQUEST_TIMEOUT_MS: true,
  MAX_CONNECTIONS: true,
  EVENT_RETENTION_DAYS: true,
  UNRESOLVED_RETENTION_DAYS: true,
  JOB_RETENTION_DAYS: true,
  DOWNLOAD_RETENTION_DAYS: true,
  RETENTION_INTERVAL_SECONDS: true,
  MAGIC_HOUR_API_KEY: true,
  MAGIC_HOUR_API_URL: true,
  RECONCILE_AFTER_SECONDS: true,
  RECONCILE_MAX_PER_SECOND: true,
  RECONCILE_INTERVAL_MS: true,
  MAGIC_HOUR_API_TIMEOUT_MS: true,
};

/** Every environment variable the service reads (the README's configuration table lists each one). */
export const ENV_VARIABLES = Object.keys(ENV_KEYS) as ReadonlyArray<keyof EnvDto>;
