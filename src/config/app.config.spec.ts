import { afterAll, describe, expect, it } from '@jest/globals';
import { buildConfig, DEFAULT_DATABASE_URL, DEFAULT_REDIS_URL, loadConfig, runsApi, runsWorker, type AppConfig } from './app.config.js';
import { InvalidEnvironmentError, validateEnv } from './env.validation.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const configFrom = (env: Record<string, string | undefined>): AppConfig => buildConfig(validateEnv(env));

/** The error `configFrom(env)` throws. */
function refusal(env: Record<string, string | undefined>): InvalidEnvironmentError {
  try {
    configFrom(env);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidEnvironmentError);
    return error as InvalidEnvironmentError;
  }
  throw new Error(`the environment ${JSON.stringify(env)} was accepted`);
}

// Not a real certificate: the config reads the file and checks only that it holds a PEM certificate.
const CA_PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
const files = mkdtempSync(join(tmpdir(), 'mh-config-'));
const caFile = join(files, 'ca.pem');
writeFileSync(caFile, CA_PEM);
afterAll(() => rmSync(files, { recursive: true, force: true }));

const PRODUCTION_READY = { NODE_ENV: 'production', MAGIC_HOUR_WEBHOOK_SECRET: 'whsec_prod', API_KEYS: 'key-prod' };

describe('buildConfig', () => {
  it('uses the defaults for an empty environment', () => {
    expect(configFrom({})).toEqual({
      production: false,
      port: 3000,
      databaseUrl: 'postgres://postgres@127.0.0.1:5432/magic_hour_webhooks',
      databaseCa: null,
      databasePoolSize: 20,
      databaseStatementTimeoutMs: 5000,
      redisUrl: 'redis://127.0.0.1:6379',
      redisCa: null,
      redisSentinels: [],
      redisSentinelName: null,
      redisSentinelPassword: null,
      webhookSecrets: [],
      webhookToleranceSeconds: 300,
      apiKeys: [],
      role: 'all',
      queuePrefix: 'bull',
      webhookBodyLimitBytes: 262144,
      apiRateLimit: 600,
      trustProxy: false,
      handlerAttempts: 5,
      handlerTimeoutMs: 60000,
      handlerBackoffMs: 2000,
      downloadDir: null,
      downloadMaxBytes: 2 * 1024 ** 3,
      logLevel: 'info',
      logFormat: null,
      metricsToken: null,
      shutdownTimeoutMs: 10000,
      requestTimeoutMs: 10000,
      maxConnections: 800,
      eventRetentionDays: 30,
      unresolvedRetentionDays: 90,
      jobRetentionDays: null,
      downloadRetentionDays: null,
      retentionIntervalSeconds: 3600,
      reconcile: null,
    });
    expect(DEFAULT_DATABASE_URL).toBe('postgres://postgres@127.0.0.1:5432/magic_hour_webhooks');
    expect(DEFAULT_REDIS_URL).toBe('redis://127.0.0.1:6379');
  });

  it('treats empty variables as unset', () => {
    expect(configFrom({ PORT: '', DATABASE_URL: '', APP_ROLE: '', MAGIC_HOUR_WEBHOOK_SECRET: '' })).toEqual(configFrom({}));
  });

  it('reads every variable it knows', () => {
    const config = configFrom({
      NODE_ENV: 'development',
      PORT: '8080',
      DATABASE_URL: 'postgresql://user:pw@db:5432/hooks?sslmode=verify-full',
      DATABASE_CA_FILE: caFile,
      DATABASE_POOL_SIZE: '40',
      DATABASE_STATEMENT_TIMEOUT_MS: '2500',
      REDIS_URL: 'rediss://:secret@cache:6380/2',
      REDIS_CA_FILE: caFile,
      REDIS_SENTINELS: 'sentinel-a:26379, [fd00::1]:26380',
      REDIS_SENTINEL_NAME: 'mymaster',
      REDIS_SENTINEL_PASSWORD: 'sentinel-secret',
      MAGIC_HOUR_WEBHOOK_SECRET: 'whsec_a',
      WEBHOOK_TOLERANCE_SECONDS: '60',
      API_KEYS: 'k1',
      API_RATE_LIMIT: '120',
      TRUST_PROXY: 'loopback',
      APP_ROLE: 'worker',
      QUEUE_PREFIX: 'test_run-1',
      WEBHOOK_BODY_LIMIT_BYTES: '1048576',
      HANDLER_ATTEMPTS: '7',
      HANDLER_TIMEOUT_MS: '1500',
      HANDLER_BACKOFF_MS: '250',
      DOWNLOAD_DIR: '/var/lib/outputs',
      DOWNLOAD_MAX_BYTES: '1000000',
      LOG_LEVEL: 'debug',
      LOG_FORMAT: 'pretty',
      METRICS_TOKEN: 'scrape-token-0123456789',
      SHUTDOWN_TIMEOUT_MS: '30000',
      REQUEST_TIMEOUT_MS: '5000',
      MAX_CONNECTIONS: '4000',
      EVENT_RETENTION_DAYS: '14',
      UNRESOLVED_RETENTION_DAYS: '60',
      JOB_RETENTION_DAYS: '365',
      DOWNLOAD_RETENTION_DAYS: '7',
      RETENTION_INTERVAL_SECONDS: '600',
      MAGIC_HOUR_API_KEY: ' mhk_live ',
      MAGIC_HOUR_API_URL: 'http://proxy.internal:8080/',
      RECONCILE_AFTER_SECONDS: '60',
      RECONCILE_MAX_PER_SECOND: '5',
      RECONCILE_INTERVAL_MS: '1000',
      MAGIC_HOUR_API_TIMEOUT_MS: '2500',
    });
    expect(config).toEqual({
      production: false,
      port: 8080,
      databaseUrl: 'postgresql://user:pw@db:5432/hooks?sslmode=verify-full',
      databaseCa: CA_PEM,
      databasePoolSize: 40,
      databaseStatementTimeoutMs: 2500,
      redisUrl: 'rediss://:secret@cache:6380/2',
      redisCa: CA_PEM,
      redisSentinels: [
        { host: 'sentinel-a', port: 26379 },
        { host: 'fd00::1', port: 26380 },
      ],
      redisSentinelName: 'mymaster',
      redisSentinelPassword: 'sentinel-secret',
      webhookSecrets: ['whsec_a'],
      webhookToleranceSeconds: 60,
      apiKeys: ['k1'],
      role: 'worker',
      queuePrefix: 'test_run-1',
      webhookBodyLimitBytes: 1048576,
      apiRateLimit: 120,
      trustProxy: ['loopback'],
      handlerAttempts: 7,
      handlerTimeoutMs: 1500,
      handlerBackoffMs: 250,
      downloadDir: '/var/lib/outputs',
      downloadMaxBytes: 1000000,
      logLevel: 'debug',
      logFormat: 'pretty',
      metricsToken: 'scrape-token-0123456789',
      shutdownTimeoutMs: 30000,
      requestTimeoutMs: 5000,
      maxConnections: 4000,
      eventRetentionDays: 14,
      unresolvedRetentionDays: 60,
      jobRetentionDays: 365,
      downloadRetentionDays: 7,
      retentionIntervalSeconds: 600,
      reconcile: {
        apiKey: 'mhk_live',
        apiUrl: 'http://proxy.internal:8080',
        apiTimeoutMs: 2500,
        afterSeconds: 60,
        maxPerSecond: 5,
        intervalMs: 1000,
      },
    });
  });

  it('turns reconciliation on with an API key, with the documented defaults', () => {
    expect(configFrom({ MAGIC_HOUR_API_KEY: 'mhk' }).reconcile).toEqual({
      apiKey: 'mhk',
      apiUrl: 'https://api.magichour.ai',
      apiTimeoutMs: 10000,
      afterSeconds: 900,
      maxPerSecond: 2,
      intervalMs: 5000,
    });
    expect(configFrom({ RECONCILE_AFTER_SECONDS: '60' }).reconcile).toBeNull();
  });

  it('refuses reconciliation settings out of range, naming them', () => {
    expect(() => configFrom({ RECONCILE_AFTER_SECONDS: '0' })).toThrow(/RECONCILE_AFTER_SECONDS/);
    expect(() => configFrom({ RECONCILE_MAX_PER_SECOND: 'lots' })).toThrow(/RECONCILE_MAX_PER_SECOND/);
    expect(() => configFrom({ MAGIC_HOUR_API_URL: 'api.magichour.ai' })).toThrow(/MAGIC_HOUR_API_URL must be an http/);
  });

  it('splits comma-separated secrets and keys, trimming them and dropping empty entries', () => {
    const config = configFrom({ MAGIC_HOUR_WEBHOOK_SECRET: ' whsec_old , ,whsec_new,', API_KEYS: ',key-a,  key-b  ,,' });
    expect(config.webhookSecrets).toEqual(['whsec_old', 'whsec_new']);
    expect(config.apiKeys).toEqual(['key-a', 'key-b']);
  });

  it('turns a list of only commas and spaces into no entries (signing off, API open)', () => {
    const config = configFrom({ MAGIC_HOUR_WEBHOOK_SECRET: ' , ', API_KEYS: ',' });
    expect(config.webhookSecrets).toEqual([]);
    expect(config.apiKeys).toEqual([]);
  });

  it.each([
    ['abc', 'PORT must be an integer number'],
    ['3000.5', 'PORT must be an integer number'],
    ['-1', 'PORT must be an integer number'],
    ['65536', 'PORT must not be greater than 65535'],
  ])('rejects PORT=%s', (port, problem) => {
    expect(refusal({ PORT: port }).message).toContain(problem);
  });

  it.each([
    ['EVENT_RETENTION_DAYS', '30d', 'EVENT_RETENTION_DAYS must be a whole number of days'],
    ['EVENT_RETENTION_DAYS', '0', 'EVENT_RETENTION_DAYS must not be less than 1'],
    ['UNRESOLVED_RETENTION_DAYS', '1.5', 'UNRESOLVED_RETENTION_DAYS must be a whole number of days'],
    ['JOB_RETENTION_DAYS', 'keep', 'JOB_RETENTION_DAYS must be a whole number of days (unset keeps jobs)'],
    ['DOWNLOAD_RETENTION_DAYS', '36501', 'DOWNLOAD_RETENTION_DAYS must not be greater than 36500'],
    ['RETENTION_INTERVAL_SECONDS', '0', 'RETENTION_INTERVAL_SECONDS must not be less than 1'],
  ])('rejects %s=%s', (name, value, problem) => {
    expect(refusal({ [name]: value }).message).toContain(problem);
  });

  it('rejects an unknown APP_ROLE', () => {
    const error = refusal({ APP_ROLE: 'scheduler' });
    expect(error.message).toMatch(/APP_ROLE must be one of the following values: api, worker, all/);
  });

  it.each([
    ['0', 'WEBHOOK_TOLERANCE_SECONDS must not be less than 1'],
    ['86401', 'WEBHOOK_TOLERANCE_SECONDS must not be greater than 86400'],
    ['5m', 'WEBHOOK_TOLERANCE_SECONDS must be an integer number'],
  ])('rejects WEBHOOK_TOLERANCE_SECONDS=%s', (value, problem) => {
    expect(refusal({ WEBHOOK_TOLERANCE_SECONDS: value }).message).toContain(problem);
  });

  it.each([
    ['0', 'API_RATE_LIMIT must not be less than 1'],
    ['ten', 'API_RATE_LIMIT must be an integer number'],
  ])('rejects API_RATE_LIMIT=%s', (value, problem) => {
    expect(refusal({ API_RATE_LIMIT: value }).message).toContain(problem);
  });

  it.each([
    ['false', false],
    ['TRUE', true],
    ['1', 1],
    ['0', 0],
    ['loopback', ['loopback']],
    [' 10.0.0.0/8, 172.16.0.0/12,fd00::/8 ', ['10.0.0.0/8', '172.16.0.0/12', 'fd00::/8']],
    [
      'loopback,uniquelocal,linklocal,203.0.113.7,10.1.0.0/255.255.0.0',
      ['loopback', 'uniquelocal', 'linklocal', '203.0.113.7', '10.1.0.0/255.255.0.0'],
    ],
  ] as const)('reads TRUST_PROXY=%s in the syntax of Express trust proxy', (value, trustProxy) => {
    expect(configFrom({ TRUST_PROXY: value }).trustProxy).toEqual(trustProxy);
  });

  it.each([
    ['lookback', 1],
    ['10.0.0.0/8,172.16.0.0/33', 2],
    ['loopback,,10.0.0.0/8', 2],
    ['203.0.113.7,', 2],
    ['-1', 1],
    ['yes', 1],
    ['10.0.0.0/8 172.16.0.0/12', 1],
  ])('rejects TRUST_PROXY=%s naming the bad item by position, not by value', (value, position) => {
    const message = refusal({ TRUST_PROXY: value }).message;
    expect(message).toContain('TRUST_PROXY must be true, false, a hop count, or a comma-separated list of proxy addresses');
    expect(message).toContain(`(item ${position} is not one)`);
    expect(message).not.toContain(value);
  });

  it.each(['mysql://db/hooks', 'localhost:5432', 'postgres://'])('rejects DATABASE_URL=%s', (url) => {
    expect(refusal({ DATABASE_URL: url }).message).toContain('DATABASE_URL must be a postgres:// URL');
  });

  it.each([
    [
      'postgres://db/hooks?sslmode=prefer',
      'sslmode must be one of disable, require, verify-ca, verify-full (prefer and allow are not supported',
    ],
    ['postgres://db/hooks?sslmode=strict', 'sslmode must be one of disable, require, verify-ca, verify-full'],
    ['postgres://db/hooks?sslmode=verify-full&sslrootcert=/ca.pem', 'sslrootcert is not taken; give the CA in DATABASE_CA_FILE'],
  ])('rejects DATABASE_URL=%s with what is wrong', (url, problem) => {
    expect(refusal({ DATABASE_URL: url }).message).toContain(`DATABASE_URL: ${problem}`);
  });

  it.each([
    ['rediss://:pw@cache/x', 'REDIS_URL: the path must be a database number'],
    ['redis://:pw@', 'REDIS_URL must be a redis:// URL (rediss:// for TLS)'],
    ['cache:6379', 'REDIS_URL must be a redis:// URL (rediss:// for TLS)'],
  ])('rejects REDIS_URL=%s without quoting it', (url, problem) => {
    const message = refusal({ REDIS_URL: url }).message;
    expect(message).toContain(problem);
    expect(message).not.toContain(url);
  });

  it.each([
    ['sentinel-a', 1],
    ['sentinel-a:26379,sentinel-b', 2],
    ['sentinel-a:26379,,sentinel-b:26379', 2],
    ['sentinel-a:70000', 1],
  ])('rejects REDIS_SENTINELS=%s naming the bad item by position', (value, position) => {
    expect(refusal({ REDIS_SENTINELS: value, REDIS_SENTINEL_NAME: 'mymaster' }).message).toContain(
      `REDIS_SENTINELS must be a comma-separated list of host:port (item ${position} is not one)`,
    );
  });

  it('takes REDIS_SENTINELS and REDIS_SENTINEL_NAME only together', () => {
    const both = 'REDIS_SENTINELS and REDIS_SENTINEL_NAME go together';
    expect(refusal({ REDIS_SENTINELS: 'sentinel-a:26379' }).message).toContain(both);
    expect(refusal({ REDIS_SENTINEL_NAME: 'mymaster' }).message).toContain(both);
  });

  it('refuses a CA file for a connection without TLS, which would ignore it', () => {
    expect(refusal({ DATABASE_CA_FILE: caFile }).message).toContain('DATABASE_CA_FILE needs TLS');
    expect(refusal({ DATABASE_URL: 'postgres://db/hooks?sslmode=disable', DATABASE_CA_FILE: caFile }).message).toContain(
      'sslmode=verify-full',
    );
    expect(refusal({ REDIS_CA_FILE: caFile }).message).toBe('REDIS_CA_FILE needs TLS: use a rediss:// REDIS_URL');
    expect(() => configFrom({ DATABASE_URL: 'postgres://db/hooks?sslmode=require', DATABASE_CA_FILE: caFile })).not.toThrow();
  });

  it('refuses a CA file it cannot read or that holds no certificate, naming the variable', () => {
    expect(refusal({ DATABASE_CA_FILE: join(tmpdir(), 'mh-no-such-ca.pem') }).message).toBe('DATABASE_CA_FILE cannot be read: ENOENT');
    const empty = join(files, 'empty.pem');
    writeFileSync(empty, 'not a certificate');
    expect(refusal({ REDIS_CA_FILE: empty }).message).toBe('REDIS_CA_FILE holds no PEM certificate');
  });

  it('rejects other malformed variables with their own message', () => {
    expect(refusal({ REDIS_URL: 'http://cache' }).message).toContain('REDIS_URL must be a redis:// URL');
    expect(refusal({ DATABASE_POOL_SIZE: '1' }).message).toContain('DATABASE_POOL_SIZE must not be less than 2');
    expect(refusal({ DATABASE_STATEMENT_TIMEOUT_MS: '5s' }).message).toContain('DATABASE_STATEMENT_TIMEOUT_MS must be an integer number');
    expect(refusal({ REDIS_SENTINEL_NAME: 'my master', REDIS_SENTINELS: 'a:1' }).message).toContain('REDIS_SENTINEL_NAME may hold letters');
    expect(refusal({ QUEUE_PREFIX: 'has:colon' }).message).toContain('QUEUE_PREFIX may hold letters');
    expect(refusal({ NODE_ENV: 'staging' }).message).toContain('NODE_ENV must be one of the following values');
    expect(refusal({ WEBHOOK_BODY_LIMIT_BYTES: '100' }).message).toContain('WEBHOOK_BODY_LIMIT_BYTES must not be less than 1024');
    expect(refusal({ LOG_LEVEL: 'verbose' }).message).toContain('LOG_LEVEL must be one of the following values');
    expect(refusal({ LOG_FORMAT: 'text' }).message).toContain('LOG_FORMAT must be one of the following values: json, pretty');
    expect(refusal({ METRICS_TOKEN: 'short' }).message).toContain('METRICS_TOKEN must be at least 16 characters');
    expect(refusal({ SHUTDOWN_TIMEOUT_MS: '10s' }).message).toContain('SHUTDOWN_TIMEOUT_MS must be an integer number');
    expect(refusal({ SHUTDOWN_TIMEOUT_MS: '50' }).message).toContain('SHUTDOWN_TIMEOUT_MS must not be less than 100');
    expect(refusal({ REQUEST_TIMEOUT_MS: '500' }).message).toContain('REQUEST_TIMEOUT_MS must not be less than 1000');
    expect(refusal({ REQUEST_TIMEOUT_MS: '600000' }).message).toContain('REQUEST_TIMEOUT_MS must not be greater than 300000');
    expect(refusal({ MAX_CONNECTIONS: 'many' }).message).toContain('MAX_CONNECTIONS must be an integer number');
    expect(refusal({ MAX_CONNECTIONS: '0' }).message).toContain('MAX_CONNECTIONS must not be less than 10');
  });

  it('lists every problem at once, one per line', () => {
    const error = refusal({ PORT: 'abc', APP_ROLE: 'scheduler', DATABASE_URL: 'mysql://db' });
    expect(error.name).toBe('InvalidEnvironmentError');
    expect(error.message).toMatch(/^Invalid environment:\n/);
    expect(error.message).toMatch(/^ {2}- PORT must be an integer number$/m);
    expect(error.message).toMatch(/^ {2}- APP_ROLE must be one of the following values: api, worker, all$/m);
    expect(error.message).toMatch(/^ {2}- DATABASE_URL must be a postgres:\/\/ URL$/m);
  });

  describe('in production', () => {
    it('refuses to start without a webhook secret, naming it', () => {
      const error = refusal({ NODE_ENV: 'production', API_KEYS: 'key-prod' });
      expect(error.message).toBe('NODE_ENV=production requires MAGIC_HOUR_WEBHOOK_SECRET');
    });

    it('refuses to start without API keys, naming them', () => {
      const error = refusal({ NODE_ENV: 'production', MAGIC_HOUR_WEBHOOK_SECRET: 'whsec_prod' });
      expect(error.message).toBe('NODE_ENV=production requires API_KEYS');
    });

    it('names both when both are missing', () => {
      expect(refusal({ NODE_ENV: 'production' }).message).toBe('NODE_ENV=production requires MAGIC_HOUR_WEBHOOK_SECRET and API_KEYS');
    });

    it('counts a secret list of only commas and spaces as missing', () => {
      const error = refusal({ ...PRODUCTION_READY, MAGIC_HOUR_WEBHOOK_SECRET: ' , ' });
      expect(error.message).toBe('NODE_ENV=production requires MAGIC_HOUR_WEBHOOK_SECRET');
    });

    it('starts with both', () => {
      const config = configFrom(PRODUCTION_READY);
      expect(config.production).toBe(true);
      expect(config.webhookSecrets).toEqual(['whsec_prod']);
      expect(config.apiKeys).toEqual(['key-prod']);
    });

    it('does not ask for them outside production', () => {
      expect(configFrom({ NODE_ENV: 'development' }).production).toBe(false);
      expect(configFrom({ NODE_ENV: 'test' }).production).toBe(false);
    });
  });

  it('ignores variables it does not know, even invalid-looking ones', () => {
    const config = configFrom({
      PATH: '/usr/bin',
      HOME: '/root',
      port: 'not-a-number',
      DATABASE_URI: 'mysql://elsewhere',
      UNSET: undefined,
    });
    expect(config).toEqual(configFrom({}));
  });

  it('ignores variables named like Object.prototype members', () => {
    const env = { constructor: 'x', toString: 'y', hasOwnProperty: 'z', __proto__x: 'w' };
    expect(configFrom(env)).toEqual(configFrom({}));
    expect(configFrom({ ...env, PORT: '4000' }).port).toBe(4000);
  });

  it('loadConfig validates and builds from the given environment', () => {
    expect(loadConfig({ PORT: '4321', APP_ROLE: 'api' })).toMatchObject({ port: 4321, role: 'api' });
    expect(() => loadConfig({ PORT: 'x' })).toThrow(InvalidEnvironmentError);
  });
});

describe('runsApi / runsWorker', () => {
  it('maps each role to the parts of the service it runs', () => {
    const roles = (role: string) => {
      const config = configFrom({ APP_ROLE: role });
      return [runsApi(config), runsWorker(config)];
    };
    expect(roles('all')).toEqual([true, true]);
    expect(roles('api')).toEqual([true, false]);
    expect(roles('worker')).toEqual([false, true]);
  });
});
