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

  @IsOptional()
  @Matches(/^postgres(ql)?:\/\/.+/, { message: 'DATABASE_URL must be a postgres:// URL' })
  DATABASE_URL?: string;

  @IsOptional()
  @Matches(/^rediss?:\/\/.+/, { message: 'REDIS_URL must be a redis:// URL' })
  REDIS_URL?: string;

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
  REDIS_URL: true,
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
  MAGIC_HOUR_API_KEY: true,
  MAGIC_HOUR_API_URL: true,
  RECONCILE_AFTER_SECONDS: true,
  RECONCILE_MAX_PER_SECOND: true,
  RECONCILE_INTERVAL_MS: true,
  MAGIC_HOUR_API_TIMEOUT_MS: true,
};

/** Every environment variable the service reads (the README's configuration table lists each one). */
export const ENV_VARIABLES = Object.keys(ENV_KEYS) as ReadonlyArray<keyof EnvDto>;
