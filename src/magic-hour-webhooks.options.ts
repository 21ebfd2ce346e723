import { Logger, type FactoryProvider, type ModuleMetadata, type Provider } from '@nestjs/common';
import { defaultConfig, type AppConfig } from './config/app.config.js';
import type { LogSink } from './logging/pino-logger.js';

/** `AppConfig` fields that belong to the app that runs the module (its server, database and log output), not to the module. */
type HostOwnedField =
  | 'production'
  | 'port'
  | 'databaseUrl'
  | 'databaseCa'
  | 'databasePoolSize'
  | 'databaseStatementTimeoutMs'
  | 'trustProxy'
  | 'requestTimeoutMs'
  | 'maxConnections'
  | 'shutdownTimeoutMs'
  | 'logFormat';

/** Options that decide which controllers and providers the module brings, so they are known when it is imported. */
export interface MagicHourWebhooksStructure {
  /** `api`: intake and REST only; `worker`: processing and handlers only; `all` (default): both. */
  role?: AppConfig['role'];
  /** The route Magic Hour posts to, under the app's global prefix if it has one. Default `webhook`. */
  webhookPath?: string;
  /** Serve `GET /jobs`, `GET /jobs/:id` and `/events` (behind `apiKeys` and the rate limit). Default `true`. */
  restApi?: boolean;
  /** The name of the app's TypeORM data source (`TypeOrmModule.forRoot({ name })`); the default one when not given. */
  dataSourceName?: string;
  /**
   * Apply this module's pending migrations at start, on the app's database, under an advisory lock. Default
   * `true`; with `false` the app runs `MAGIC_HOUR_MIGRATIONS` itself (they keep their own table, `typeorm_migrations`).
   */
  migrationsRun?: boolean;
  /** Where the shipped download handler stores job outputs; off when not given. */
  downloadDir?: string | null;
  /** More handler providers; `@OnMagicHourEvent` methods on any provider of the app are found anyway. */
  handlers?: Provider[];
  /** Where the module's structured log lines go; Nest's `Logger` (whatever logger the app installed) by default. */
  logger?: LogSink;
}

/**
 * Settings of the module, every one optional, with the standalone service's defaults (`defaultConfig`):
 * `webhookSecrets`, `apiKeys`, `redisUrl`, `queuePrefix`, handler attempts and timeouts, and the rest of
 * `AppConfig` except what the app owns. The module never reads `process.env`.
 */
export type MagicHourWebhooksSettings = Partial<Omit<AppConfig, HostOwnedField | 'role' | 'downloadDir'>>;

/** What `MagicHourWebhooksModule.forRoot` takes. */
export interface MagicHourWebhooksOptions extends MagicHourWebhooksStructure, MagicHourWebhooksSettings {}

/** What `MagicHourWebhooksModule.forRootAsync` takes: the structure now, the settings from `useFactory` at start. */
export interface MagicHourWebhooksAsyncOptions extends MagicHourWebhooksStructure {
  /** Modules that provide what `inject` names (a `ConfigModule`, say). */
  imports?: ModuleMetadata['imports'];
  inject?: FactoryProvider['inject'];
  useFactory: (...args: never[]) => MagicHourWebhooksSettings | Promise<MagicHourWebhooksSettings>;
}

const STRUCTURE_KEYS: ReadonlySet<string> = new Set<keyof MagicHourWebhooksStructure>([
  'role',
  'webhookPath',
  'restApi',
  'dataSourceName',
  'migrationsRun',
  'downloadDir',
  'handlers',
  'logger',
]);

/**
 * The module's whole configuration: `defaultConfig()`, overridden by every setting given (an `undefined`
 * one keeps its default), with the structure's `role` and `downloadDir`.
 */
export function resolveModuleConfig(structure: MagicHourWebhooksStructure, settings: MagicHourWebhooksSettings): AppConfig {
  const given = Object.entries(settings).filter(([key, value]) => value !== undefined && !STRUCTURE_KEYS.has(key));
  const defaults = defaultConfig();
  const config: AppConfig = {
    ...defaults,
    ...(Object.fromEntries(given) as MagicHourWebhooksSettings),
    role: structure.role ?? defaults.role,
    downloadDir: structure.downloadDir ?? defaults.downloadDir,
  };
  const problems = settingProblems(config, defaults);
  if (problems.length > 0) throw new Error(`MagicHourWebhooksModule: invalid settings: ${problems.join('; ')}`);
  const logger = new Logger('MagicHourWebhooks');
  if (config.webhookSecrets.length === 0) {
    logger.warn('No webhookSecrets: webhook signatures are NOT checked. Never run like this in production.');
  }
  if (structure.restApi !== false && config.apiKeys.length === 0) {
    logger.warn('No apiKeys: the jobs and events API is open to anyone unless the app guards it.');
  }
  return config;
}

const isNonEmptyStringList = (value: unknown): boolean =>
  Array.isArray(value) && value.every((item) => typeof item === 'string' && item.trim().length > 0);
const isPositiveNumber = (value: unknown): boolean => typeof value === 'number' && Number.isFinite(value) && value > 0;
/** Longest delay Node's timers take (about 24.8 days), in seconds. */
const MAX_TIMER_SECONDS = 2_147_483;

/**
 * What is wrong with a module configuration, as the standalone's environment validation would say it:
 * each setting of the type its default has, secrets and keys non-empty strings, numbers positive.
 */
function settingProblems(config: AppConfig, defaults: AppConfig): string[] {
  const problems: string[] = [];
  for (const key of ['webhookSecrets', 'apiKeys'] as const) {
    if (!isNonEmptyStringList(config[key])) problems.push(`${key} must be a list of non-empty strings`);
  }
  for (const [key, fallback] of Object.entries(defaults) as Array<[keyof AppConfig, unknown]>) {
    const value = config[key];
    if (typeof fallback === 'number' && !isPositiveNumber(value)) problems.push(`${key} must be a positive number`);
    if (typeof fallback === 'string' && (typeof value !== 'string' || value.length === 0))
      problems.push(`${key} must be a non-empty string`);
  }
  for (const key of ['jobRetentionDays', 'downloadRetentionDays'] as const) {
    if (config[key] !== null && !isPositiveNumber(config[key])) problems.push(`${key} must be a positive number, or null to keep`);
  }
  if (config.retentionIntervalSeconds > MAX_TIMER_SECONDS) problems.push(`retentionIntervalSeconds must be at most ${MAX_TIMER_SECONDS}`);
  if (config.reconcile !== null) {
    const { apiKey, apiUrl, ...numbers } = config.reconcile;
    if (typeof apiKey !== 'string' || apiKey.trim().length === 0) problems.push('reconcile.apiKey must be a non-empty string');
    if (typeof apiUrl !== 'string' || !/^https?:\/\/./.test(apiUrl)) problems.push('reconcile.apiUrl must be an http(s) URL');
    for (const [key, value] of Object.entries(numbers)) {
      if (!isPositiveNumber(value)) problems.push(`reconcile.${key} must be a positive number`);
    }
  }
  if (!Array.isArray(config.redisSentinels)) problems.push('redisSentinels must be a list of { host, port }');
  else if (config.redisSentinels.length > 0 !== (config.redisSentinelName !== null)) {
    problems.push('redisSentinels and redisSentinelName go together: set both, or neither');
  }
  return problems;
}

/** The structure part of `forRoot`'s options. */
export function structureOf(options: MagicHourWebhooksStructure): MagicHourWebhooksStructure {
  return Object.fromEntries(Object.entries(options).filter(([key]) => STRUCTURE_KEYS.has(key)));
}
