import type { RedisOptions } from 'ioredis';
import type { AppConfig } from '../config/app.config.js';
import { parseRedisUrl } from '../config/connection-urls.js';

/** What a Redis connection is built from: the `REDIS_*` part of the configuration. */
export type RedisSettings = Pick<AppConfig, 'redisUrl' | 'redisCa' | 'redisSentinels' | 'redisSentinelName' | 'redisSentinelPassword'>;

/**
 * The one description of a connection to Redis, as ioredis options, for every client the service
 * opens (Bull's three per queue, the rate limit's): the host, user, password and database number of
 * `REDIS_URL`, TLS for `rediss://` (checked against `REDIS_CA_FILE` when given), or, with
 * `REDIS_SENTINELS`, the master the Sentinels name, followed when it fails over. Callers add their
 * own timeouts and retry strategy.
 */
export function redisConnection(settings: RedisSettings): RedisOptions {
  const url = parseRedisUrl(settings.redisUrl);
  const tls = url.tls ? (settings.redisCa === null ? {} : { ca: settings.redisCa }) : undefined;
  const credentials = { username: url.username, password: url.password, db: url.db };
  // A client still on a master that was demoted is answered READONLY: reconnect (and ask the Sentinels
  // anew) and send the command again, rather than fail it.
  const reconnectOnError = (error: Error): 2 | false => (error.message.startsWith('READONLY') ? 2 : false);
  if (settings.redisSentinels.length === 0) return { host: url.host, port: url.port, tls, ...credentials, reconnectOnError };
  return {
    sentinels: settings.redisSentinels.map(({ host, port }) => ({ host, port })),
    name: settings.redisSentinelName ?? undefined,
    sentinelPassword: settings.redisSentinelPassword ?? undefined,
    // With rediss://, TLS to the master and to the Sentinels alike.
    ...(tls ? { tls, enableTLSForSentinelMode: true, sentinelTLS: tls } : {}),
    // Learn of a failover from the Sentinels' +switch-master at once, not only once the old master drops us.
    failoverDetector: true,
    ...credentials,
    reconnectOnError,
  };
}
