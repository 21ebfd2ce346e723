import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { COMMIT_PROBE_TABLE, commitLoop } from '../bench/commit-loop.js';
import { dropDatabase, prepareDatabase } from '../src/database/database.bootstrap.js';
import { POSTGRES_URL, uniqueName } from './support/app.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

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

  /** Holds every insert into the probe's table for `ms`, as a commit that cannot finish would; gives how many waited. */
  async function holdInserts(ms: number): Promise<number> {
    await client.query('BEGIN');
    await client.query(`LOCK TABLE ${COMMIT_PROBE_TABLE} IN ACCESS EXCLUSIVE MODE`);
    await sleep(ms);
    const [{ waiting }] = (
      await client.query(
        `SELECT count(*)::int AS waiting FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
      )
    ).rows;
    await client.query('COMMIT');
    return waiting;
  }

  it('commits one row per tick of the schedule, warm-up included, and times only the ticks after the warm-up', async () => {
    const started = performance.timeOrigin + performance.now();
    const result = await commitLoop(url, 200, 0.2, 0.5);

    expect(result.requests).toBe(100);
    expect(result.errors).toBe(0);
    const [{ rows }] = (await client.query(`SELECT count(*)::int AS rows FROM ${COMMIT_PROBE_TABLE}`)).rows;
    expect(rows).toBe(140);
    expect(result.latencies.every((ms) => ms > 0 && ms < 5000)).toBe(true);
    // Due every 5 ms from the end of the 0.2 s warm-up: the timed ticks are the last 100.
    const due = [...result.dueAt].sort((a, b) => a - b);
    expect(due[0]).toBeGreaterThanOrEqual(started + 200);
    expect(due[due.length - 1] - due[0]).toBeGreaterThanOrEqual(490);
    expect(due[due.length - 1] - due[0]).toBeLessThan(500);
    expect(result.p50).toBeLessThanOrEqual(result.p99);
  });

  it('goes on sending while commits are held up, and times each from when it was due', async () => {
    const running = commitLoop(url, 200, 0, 1);
    await sleep(300);
    const waiting = await holdInserts(300);
    const result = await running;

    // Open loop: the commits due while the table was locked were all sent, each on a connection of its own.
    expect(waiting).toBeGreaterThan(10);
    expect(result.requests).toBe(200);
    expect(result.errors).toBe(0);
    expect(Math.max(...result.latencies)).toBeGreaterThanOrEqual(250);
    expect(result.latencies.filter((ms) => ms >= 100).length).toBeGreaterThan(20);
  });

  it('counts a commit not done in time as failed, and still returns', async () => {
    const running = commitLoop(url, 100, 0, 0.5, 200);
    await sleep(100);
    await holdInserts(500);
    const result = await running;

    expect(result.errors).toBeGreaterThan(0);
    expect(result.failures).toEqual({ ETIMEDOUT: result.errors });
    expect(result.requests + result.errors).toBe(50);
    expect(Math.max(...result.latencies)).toBeLessThan(250);
  });

  it('refuses a schedule of fractional ticks', async () => {
    await expect(commitLoop(url, 100, 0.005, 1)).rejects.toThrow(/whole numbers/);
  });
});
