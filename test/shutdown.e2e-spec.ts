import { afterAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { connect } from 'node:net';
import { dropDatabase } from '../src/database/database.bootstrap.js';
import { WEBHOOK_QUEUE } from '../src/queue/queue.constants.js';
import { eventBody, projectId } from './support/events.js';
import { portOf } from './support/raw-http.js';
import { signedHeaders } from './support/signing.js';
import { eventually, REDIS_URL, startApp, TEST_SECRET } from './support/app.js';

describe('Stopping the app while intake writes a batch', () => {
  const redis = new Redis(REDIS_URL, { lazyConnect: true });
  afterAll(async () => {
    redis.disconnect();
  });

  it('queues an event whose batch commits during the stop, rather than leaving it to the relay', async () => {
    // The API role only, so that the job stays in Redis for the test to find.
    const t = await startApp({ APP_ROLE: 'api' });
    const prefix = t.config.queuePrefix;
    try {
      // Hold intake's INSERT on a table lock, so that its batch is under way when the stop begins.
      const lock = t.db.createQueryRunner();
      await lock.connect();
      await lock.startTransaction();
      await lock.query('LOCK TABLE webhook_events IN EXCLUSIVE MODE');

      const id = projectId();
      const body = eventBody('video.completed', id);
      const headers = { ...signedHeaders(body, TEST_SECRET), host: 'localhost', 'content-length': String(Buffer.byteLength(body)) };
      const socket = connect(portOf(t.app.getHttpServer()), '127.0.0.1');
      socket.on('error', () => undefined);
      socket.write(
        `POST /webhook HTTP/1.1\r\n${Object.entries(headers)
          .map(([k, v]) => `${k}: ${v}\r\n`)
          .join('')}\r\n${body}`,
      );
      await eventually(async () => {
        const [{ n }] = await t.db.query(
          `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
        );
        return n === 1;
      });
      // The sender gives up (as Magic Hour does after 10 s), so no open request holds the stop back.
      socket.destroy();

      const stopped = t.app.close();
      await new Promise((resolve) => setTimeout(resolve, 500));
      await lock.commitTransaction();
      await lock.release();
      await stopped;

      const [event] = await t.db.query(`SELECT id, status, enqueued_at FROM webhook_events WHERE project_id = $1`, [id]);
      expect(event).toMatchObject({ status: 'received' });
      // Handed to the queue before it closed: the job (its id is the event's) is in Redis.
      await redis.connect();
      expect(await redis.exists(`${prefix}:${WEBHOOK_QUEUE}:${event.id}`)).toBe(1);
    } finally {
      await t.db.destroy();
      await dropDatabase(t.config.databaseUrl);
      if (redis.status === 'ready') {
        const keys = await redis.keys(`${prefix}:*`);
        if (keys.length > 0) await redis.del(...keys);
      }
    }
  });
});
