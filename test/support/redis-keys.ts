import { Redis } from 'ioredis';

/**
 * Deletes every key under each of `prefixes` (`prefix:*`) in the Redis at `redisUrl`: what a test app
 * or a bench run queued under a prefix of its own. Fails when that Redis cannot be reached.
 */
export async function removeKeysUnder(redisUrl: string, prefixes: readonly string[]): Promise<void> {
  const redis = new Redis(redisUrl, { lazyConnect: true, connectTimeout: 1000, maxRetriesPerRequest: 1, retryStrategy: () => null });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    for (const prefix of prefixes) {
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
        if (keys.length > 0) await redis.unlink(...keys);
        cursor = next;
      } while (cursor !== '0');
    }
  } finally {
    redis.disconnect();
  }
}
