import { describe, expect, it } from '@jest/globals';
import { redisConnection, type RedisSettings } from './redis-connection.js';

const plain: RedisSettings = {
  redisUrl: 'redis://127.0.0.1:6379',
  redisCa: null,
  redisSentinels: [],
  redisSentinelName: null,
  redisSentinelPassword: null,
};

describe(redisConnection.name, () => {
  it('takes the host, port, user, password (decoded) and database number from REDIS_URL, with TLS for rediss://', () => {
    const options = redisConnection({ ...plain, redisUrl: 'rediss://app:p%40ss%3Aword@cache.example.com:6380/3', redisCa: 'PEM' });
    expect(options).toMatchObject({
      host: 'cache.example.com',
      port: 6380,
      username: 'app',
      password: 'p@ss:word',
      db: 3,
      tls: { ca: 'PEM' },
    });
    expect(redisConnection(plain)).toMatchObject({ host: '127.0.0.1', port: 6379, db: 0, tls: undefined, password: undefined });
  });

  it('asks the Sentinels for the master, keeping the password, database and TLS of REDIS_URL for it and them', () => {
    const options = redisConnection({
      ...plain,
      redisUrl: 'rediss://:secret@ignored-host:1/2',
      redisSentinels: [
        { host: '10.0.0.1', port: 26379 },
        { host: 'fd00::1', port: 26380 },
      ],
      redisSentinelName: 'mymaster',
      redisSentinelPassword: 'sentinel-secret',
    });
    expect(options).toMatchObject({
      sentinels: [
        { host: '10.0.0.1', port: 26379 },
        { host: 'fd00::1', port: 26380 },
      ],
      name: 'mymaster',
      sentinelPassword: 'sentinel-secret',
      password: 'secret',
      db: 2,
      tls: {},
      sentinelTLS: {},
      enableTLSForSentinelMode: true,
      failoverDetector: true,
    });
    expect(options).not.toHaveProperty('host');
  });

  it('reconnects on a READONLY answer (a demoted master) and on nothing else', () => {
    const { reconnectOnError } = redisConnection(plain);
    expect(reconnectOnError?.(new Error("READONLY You can't write against a read only replica."))).toBe(2);
    expect(reconnectOnError?.(new Error('ERR unknown command'))).toBe(false);
  });
});
