import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { eventBody, projectId } from './support/events.js';
import { signedHeaders } from './support/signing.js';
import { eventually, startApp, TEST_SECRET, testConfig, type TestApp } from './support/app.js';

describe('Two API processes on one database and queue (batching on)', () => {
  let worker: TestApp;
  let api: TestApp;

  beforeAll(async () => {
    const config = testConfig();
    worker = await startApp({}, config);
    api = await startApp({}, { ...config, role: 'api' });
  });
  afterAll(async () => {
    await api?.close({ keepDatabase: true });
    await worker?.close();
  });

  it('stores and applies each event once when the same deliveries reach both at once', async () => {
    const ids = Array.from({ length: 5 }, () => projectId());
    const deliveries = ids.flatMap((id) => {
      const body = eventBody('video.completed', id);
      return Array.from({ length: 10 }, (_, i) =>
        request((i % 2 === 0 ? worker : api).app.getHttpServer())
          .post('/webhook')
          .set(signedHeaders(body, TEST_SECRET))
          .send(body),
      );
    });
    const answers = await Promise.all(deliveries);
    expect(answers.every((answer) => answer.status === 200)).toBe(true);
    expect(answers.filter((answer) => answer.body.duplicate === false)).toHaveLength(ids.length);

    await eventually(async () => {
      const [row] = await worker.db.query(`SELECT count(*)::int AS n FROM webhook_events WHERE status = 'processed'`);
      return row.n === ids.length;
    });
    const rows = await worker.db.query(
      `SELECT project_id, count(*)::int AS n, sum(attempts)::int AS attempts FROM webhook_events
        WHERE project_id = ANY($1::text[]) GROUP BY project_id`,
      [ids],
    );
    expect(rows).toHaveLength(ids.length);
    expect(rows.every((row: { n: number; attempts: number }) => row.n === 1 && row.attempts === 1)).toBe(true);
    const jobs = await worker.db.query(`SELECT status FROM jobs WHERE id = ANY($1::text[])`, [ids]);
    expect(jobs).toEqual(Array(ids.length).fill({ status: 'complete' }));
  });
});
