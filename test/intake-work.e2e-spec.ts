import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { getQueueToken } from '@nestjs/bull';
import type { Queue } from 'bull';
import { Redis } from 'ioredis';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../src/database/data-source.options.js';
import { dropDatabase, prepareDatabase } from '../src/database/database.bootstrap.js';
import { PreparedStatement } from '../src/database/prepared-statement.js';
import { WebhookEventRepository, type NewWebhookEvent } from '../src/webhook/webhook-event.repository.js';
import { WEBHOOK_QUEUE, type WebhookJobData } from '../src/webhook/webhook.constants.js';
import { eventBody, projectId } from './support/events.js';
import { signedHeaders } from './support/signing.js';
import { eventually, POSTGRES_URL, REDIS_URL, startApp, TEST_SECRET, uniqueName } from './support/app.js';

/** How often each prepared statement of the connection `dataSource` (a pool of one) has run. */
async function preparedRuns(dataSource: DataSource): Promise<Record<string, number>> {
  const rows: Array<{ name: string; runs: number }> = await dataSource.query(
    `SELECT name, (generic_plans + custom_plans)::int AS runs FROM pg_prepared_statements`,
  );
  return Object.fromEntries(rows.map((row) => [row.name, row.runs]));
}

describe('Statements prepared once per connection (real Postgres)', () => {
  const url = `${POSTGRES_URL}/${uniqueName('mh_test')}`;
  let dataSource: DataSource;

  beforeAll(async () => {
    await prepareDatabase(url);
    // One connection, so that the statements this test runs and its look at them share a session.
    dataSource = new DataSource({ ...dataSourceOptions(url), extra: { max: 1 } });
    await dataSource.initialize();
  });
  afterAll(async () => {
    await dataSource?.destroy();
    await dropDatabase(url);
  });

  it('a PreparedStatement is parsed once and run by name after that', async () => {
    const double = new PreparedStatement<{ doubled: number }>('test_double', 'SELECT ($1::int * 2) AS doubled');
    expect(await double.run(dataSource, [21])).toEqual([{ doubled: 42 }]);
    expect(await double.run(dataSource, [5])).toEqual([{ doubled: 10 }]);
    expect((await preparedRuns(dataSource)).test_double).toBe(2);
  });

  it("intake's insert goes through its prepared statement, duplicates included", async () => {
    const events = new WebhookEventRepository(dataSource);
    const row = (key: string): NewWebhookEvent => ({
      eventKey: key,
      type: 'video.completed',
      media: 'video',
      projectId: key,
      status: 'received',
      payloadJson: JSON.stringify({ id: key }),
      lastError: null,
    });
    const before = (await preparedRuns(dataSource)).mh_insert_events ?? 0;
    const first = await events.insertMany([row('prepared-a'), row('prepared-b')]);
    const second = await events.insertMany([row('prepared-b'), row('prepared-c')]);

    expect([...first.keys()].sort()).toEqual(['prepared-a', 'prepared-b']);
    // prepared-b was stored by the first call: a duplicate, not in the map.
    expect([...second.keys()]).toEqual(['prepared-c']);
    expect((await preparedRuns(dataSource)).mh_insert_events).toBe(before + 2);
  });
});

describe('Hand-over of committed events to the queue (API role, real Postgres and Redis)', () => {
  const deliver = (server: unknown, body: string) =>
    request(server as Parameters<typeof request>[0]).post('/webhook').set(signedHeaders(body, TEST_SECRET)).send(body);

  it('gathers events committed one after another into fewer queue jobs, each event in exactly one', async () => {
    // The API role only: nothing takes the jobs, so they stay in Redis to be read.
    const t = await startApp({ APP_ROLE: 'api' });
    try {
      const ids = Array.from({ length: 20 }, () => projectId());
      // One at a time: each delivery is its own intake batch and commit.
      for (const id of ids) expect((await deliver(t.app.getHttpServer(), eventBody('image.completed', id))).status).toBe(200);
      const stored: Array<{ id: string }> = await t.db.query(`SELECT id FROM webhook_events WHERE project_id = ANY($1)`, [ids]);
      expect(stored).toHaveLength(20);

      const queue = t.app.get<Queue<WebhookJobData>>(getQueueToken(WEBHOOK_QUEUE));
      const queued = async () => (await queue.getWaiting()).flatMap((job) => job.data.events.map((event) => event.eventId));
      let handedOver: string[] = [];
      await eventually(async () => (handedOver = await queued()).length >= 20);
      expect(handedOver.sort()).toEqual(stored.map((row) => row.id).sort());
      // Without the gathering, every delivery would be a job of its own.
      expect((await queue.getWaiting()).length).toBeLessThan(20);
    } finally {
      await t.close();
    }
  });

  it('hands over what is waiting when the app stops, without leaving it to the relay', async () => {
    const t = await startApp({ APP_ROLE: 'api' });
    const redis = new Redis(REDIS_URL, { lazyConnect: true });
    const prefix = t.config.queuePrefix;
    try {
      const id = projectId();
      expect((await deliver(t.app.getHttpServer(), eventBody('audio.completed', id))).status).toBe(200);
      // Stop at once, well within the hand-over delay: the stop must hand the event over itself.
      await t.app.close();
      const [event]: Array<{ id: string; enqueued_at: Date | null }> = await t.db.query(
        `SELECT id, enqueued_at FROM webhook_events WHERE project_id = $1`,
        [id],
      );
      expect(event.enqueued_at).not.toBeNull();
      await redis.connect();
      // A job of one event has that event's id.
      expect(await redis.exists(`${prefix}:${WEBHOOK_QUEUE}:${event.id}`)).toBe(1);
    } finally {
      await t.db.destroy();
      await dropDatabase(t.config.databaseUrl);
      if (redis.status === 'ready') {
        const keys = await redis.keys(`${prefix}:*`);
        if (keys.length > 0) await redis.del(...keys);
      }
      redis.disconnect();
    }
  });
});
