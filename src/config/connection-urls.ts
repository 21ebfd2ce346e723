/**
 * How the service reads `DATABASE_URL`, `REDIS_URL` and `REDIS_SENTINELS`: checked by `validateEnv` at
 * boot and read again, the same way, where each connection is built. Errors never quote the value, which
 * may hold a password.
 */

/** The `sslmode` values taken, with libpq's meaning (`prefer` and `allow` are refused: pg cannot fall back). */
export const SSL_MODES = ['disable', 'require', 'verify-ca', 'verify-full'] as const;
export type SslMode = (typeof SSL_MODES)[number];

/** TLS parameters of a libpq URL that the service does not take from the URL (the CA comes from `DATABASE_CA_FILE`). */
const UNSUPPORTED_SSL_PARAMETERS = ['sslrootcert', 'sslcert', 'sslkey', 'sslpassword', 'sslcrl', 'uselibpqcompat', 'ssl'];

/** `DATABASE_URL` taken apart: the URL without its TLS parameters, and its `sslmode`. */
export interface DatabaseUrl {
  /** The URL without `sslmode`, which pg would otherwise read and let override the TLS options built here. */
  url: string;
  /** `disable` when the URL names none. */
  sslMode: SslMode;
}

/** Reads `DATABASE_URL`; throws an `Error` whose message says what is wrong with it (never the value). */
export function parseDatabaseUrl(value: string): DatabaseUrl {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error('DATABASE_URL must be a postgres:// URL');
  }
  if (!/^postgres(ql)?:$/.test(url.protocol) || url.host === '') throw new Error('DATABASE_URL must be a postgres:// URL');
  const unsupported = UNSUPPORTED_SSL_PARAMETERS.find((name) => url.searchParams.has(name));
  if (unsupported)
    throw new Error(`DATABASE_URL: ${unsupported} is not taken; give the CA in DATABASE_CA_FILE and the TLS mode in sslmode`);
  const sslMode = url.searchParams.get('sslmode') ?? 'disable';
  if (!(SSL_MODES as readonly string[]).includes(sslMode)) {
    throw new Error(`DATABASE_URL: sslmode must be one of ${SSL_MODES.join(', ')} (prefer and allow are not supported: use require)`);
  }
  url.searchParams.delete('sslmode');
  return { url: url.toString(), sslMode: sslMode as SslMode };
}

/** `REDIS_URL` taken apart, as ioredis's options. */
export interface RedisUrl {
  host: string;
  port: number;
  /** `rediss://`: TLS. */
  tls: boolean;
  username: string | undefined;
  password: string | undefined;
  db: number;
}

/** Reads `REDIS_URL` (`redis[s]://[[user]:password@]host[:port][/db]`); throws an `Error` saying what is wrong. */
export function parseRedisUrl(value: string): RedisUrl {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error('REDIS_URL must be a redis:// URL (rediss:// for TLS)');
  }
  if (!/^rediss?:$/.test(url.protocol) || url.hostname === '') throw new Error('REDIS_URL must be a redis:// URL (rediss:// for TLS)');
  const path = url.pathname.replace(/^\//, '');
  if (!/^\d{0,5}$/.test(path)) throw new Error('REDIS_URL: the path must be a database number, such as /0');
  return {
    // URL keeps an IPv6 address in brackets; a socket wants it bare.
    host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: url.port === '' ? 6379 : Number(url.port),
    tls: url.protocol === 'rediss:',
    username: url.username === '' ? undefined : decodeURIComponent(url.username),
    password: url.password === '' ? undefined : decodeURIComponent(url.password),
    db: path === '' ? 0 : Number(path),
  };
}

/** One Redis Sentinel's address. */
export interface SentinelAddress {
  host: string;
  port: number;
}

/** Reads `REDIS_SENTINELS` (`host:port,host:port`, an IPv6 host in brackets); throws an `Error` naming the bad item by position. */
export function parseSentinels(value: string): SentinelAddress[] {
  const items = value.split(',').map((item) => item.trim());
  return items.map((item, index) => {
    const match = /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(item);
    const port = match ? Number(match[3]) : 0;
    if (!match || port < 1 || port > 65535) {
      throw new Error(`REDIS_SENTINELS must be a comma-separated list of host:port (item ${index + 1} is not one)`);
    }
    return { host: match[1] ?? match[2], port };
  });
}
