import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import Bull from 'bull';
import { Redis } from 'ioredis';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../src/database/data-source.options.js';
import { dropDatabase, prepareDatabase } from '../src/database/database.bootstrap.js';
import { PreparedStatement } from '../src/database/prepared-statement.js';
import { WebhookEventRepository, type NewWebhookEvent } from '../src/webhook/webhook-event.repository.js';
import { WebhookIntakeBatcher } from '../src/webhook/webhook-intake.batcher.js';
import { WEBHOOK_QUEUE, type WebhookJobData } from '../src/queue/queue.constants.js';
import { eventBody, projectId } from './support/events.js';
import { signedHeaders } from './support/signing.js';
import { eventually, POSTGRES_URL, REDIS_URL, startApp, TEST_SECRET, uniqueName, type TestApp } from './support/app.js';

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

  it('keeps its connection (and what it prepared) when Postgres refuses the statement', async () => {
    const divide = new PreparedStatement<{ pid: number }>('test_divide', 'SELECT pg_backend_pid() AS pid, 1 / $1::int AS q');
    const [{ pid }] = await divide.run(dataSource, [1]);
    // Division by zero (22012): a refusal of this statement, not of the connection.
    await expect(divide.run(dataSource, [0])).rejects.toMatchObject({ code: '22012' });
    const [again] = await divide.run(dataSource, [2]);
    expect(again.pid).toBe(pid);
    // Still the statement prepared by the first run (a new connection would have run it once only).
    expect((await preparedRuns(dataSource)).test_divide).toBeGreaterThanOrEqual(2);
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
    request(server as Parameters<typeof request>[0])
      .post('/webhook')
      .set(signedHeaders(body, TEST_SECRET))
      .send(body);
  /** The events of the waiting jobs of the app's event queue, read straight from Redis. */
  const waitingJobs = async (prefix: string): Promise<string[][]> => {
    const queue = new Bull<WebhookJobData>(WEBHOOK_QUEUE, REDIS_URL, { prefix });
    try {
      return (await queue.getWaiting()).map((job) => job.data.events.map((event) => event.eventId));
    } finally {
      await queue.close();
    }
  };
  const storedIds = async (t: TestApp, projects: string[]): Promise<string[]> =>
    (await t.db.query<Array<{ id: string }>>(`SELECT id FROM webhook_events WHERE project_id = ANY($1)`, [projects])).map((row) => row.id);

  it('hands each committed event over once, soon after its commit', async () => {
    // The API role only: nothing takes the jobs, so they stay in Redis to be read.
    const t = await startApp({ APP_ROLE: 'api' });
    try {
      const projects = Array.from({ length: 3 }, () => projectId());
      for (const id of projects) expect((await deliver(t.app.getHttpServer(), eventBody('image.completed', id))).status).toBe(200);
      const stored = await storedIds(t, projects);
      expect(stored).toHaveLength(3);
      let handedOver: string[] = [];
      await eventually(async () => (handedOver = (await waitingJobs(t.config.queuePrefix)).flat()).length >= 3);
      expect(handedOver.sort()).toEqual(stored.sort());
    } finally {
      await t.close();
    }
  });

  it('gathers the events committed within the delay into one job, and a stop hands them over at once', async () => {
    const t = await startApp({ APP_ROLE: 'api' });
    const prefix = t.config.queuePrefix;
    try {
      // A window no test run outlasts: only gathering, then the stop, can hand these events over.
      t.app.get(WebhookIntakeBatcher).handOverDelayMs = 600_000;
      const projects = Array.from({ length: 20 }, () => projectId());
      // One at a time: each delivery is its own intake batch and commit.
      for (const id of projects) expect((await deliver(t.app.getHttpServer(), eventBody('video.completed', id))).status).toBe(200);
      const stored = await storedIds(t, projects);
      expect(stored).toHaveLength(20);
      expect(await waitingJobs(prefix)).toEqual([]);

      await t.app.close();
      const jobs = await waitingJobs(prefix);
      expect(jobs).toHaveLength(1);
      expect([...jobs[0]].sort()).toEqual(stored.sort());
    } finally {
      await t.db.destroy();
      await dropDatabase(t.config.databaseUrl);
      const redis = new Redis(REDIS_URL);
      const keys = await redis.keys(`${prefix}:*`);
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
    }
  });
});
