import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { COMMIT_PROBE_TABLE, commitLoop } from '../bench/commit-loop.js';
import { dropDatabase, prepareDatabase } from '../src/database/database.bootstrap.js';
import { POSTGRES_URL, uniqueName } from './support/app.js';

describe('The commit probe of npm run bench (real Postgres)', () => {
  const url = `${POSTGRES_URL}/${uniqueName('mh_test')}`;
  let client: pg.Client;

  beforeAll(async () => {
    await prepareDatabase(url);
    client = new pg.Client({ connectionString: url });
    await client.connect();
  });
  afterAll(async () => {
    await client?.end();
    await dropDatabase(url);
  });

  it('commits one row per tick of the schedule, warm-up included, and times only the ticks after the warm-up', async () => {
    const result = await commitLoop(url, 200, 0.2, 0.5);

    expect(result.requests).toBe(100);
    expect(result.errors).toBe(0);
    const [{ rows }] = (await client.query(`SELECT count(*)::int AS rows FROM ${COMMIT_PROBE_TABLE}`)).rows;
    expect(rows).toBe(140);
    expect(result.latencies.every((ms) => ms > 0 && ms < 5000)).toBe(true);
    // Due every 5 ms: the timed ticks span the 0.5 s after the warm-up.
    const due = [...result.dueAt].sort((a, b) => a - b);
    expect(due[due.length - 1] - due[0]).toBeGreaterThanOrEqual(490);
    expect(due[due.length - 1] - due[0]).toBeLessThan(500);
    expect(result.p50).toBeLessThanOrEqual(result.p99);
  });

  it('times each commit from when it was due, so that a commit held up shows its whole wait, and the schedule goes on', async () => {
    const running = commitLoop(url, 200, 0, 1);
    await new Promise((resolve) => setTimeout(resolve, 300));
    // Hold every insert into the table for 300 ms, as a stalled WAL flush would.
    await client.query('BEGIN');
    await client.query(`LOCK TABLE ${COMMIT_PROBE_TABLE} IN ACCESS EXCLUSIVE MODE`);
    await new Promise((resolve) => setTimeout(resolve, 300));
    await client.query('COMMIT');
    const result = await running;

    expect(result.requests).toBe(200);
    expect(result.errors).toBe(0);
    expect(Math.max(...result.latencies)).toBeGreaterThanOrEqual(250);
    // The commits held up were many (all due in those 300 ms), not one that held up the rest.
    expect(result.latencies.filter((ms) => ms >= 100).length).toBeGreaterThan(20);
  });
});
