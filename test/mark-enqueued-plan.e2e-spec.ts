import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../src/database/data-source.options.js';
import { dropDatabase, prepareDatabase } from '../src/database/database.bootstrap.js';
import { WebhookEventRepository } from '../src/webhook/webhook-event.repository.js';
import { POSTGRES_URL, uniqueName } from './support/app.js';

/** A plan node of `EXPLAIN (ANALYZE, FORMAT JSON)`, as far as this test reads it. */
interface PlanNode {
  'Node Type': string;
  'Actual Rows': number;
  'Actual Loops': number;
  'Rows Removed by Filter'?: number;
  'Index Name'?: string;
  Plans?: PlanNode[];
}

/** Rows the plan's scans produced or read and threw away, and the indexes they used. */
function scans(node: PlanNode): { rows: number; indexes: string[] } {
  const own = node['Node Type'].includes('Scan') && !node['Node Type'].startsWith('Subquery');
  const children = (node.Plans ?? []).map(scans);
  return {
    rows:
      (own ? (node['Actual Rows'] + (node['Rows Removed by Filter'] ?? 0)) * node['Actual Loops'] : 0) +
      children.reduce((sum, child) => sum + child.rows, 0),
    indexes: [...(node['Index Name'] ? [node['Index Name']] : []), ...children.flatMap((child) => child.indexes)],
  };
}

// Intake marks each batch queued once Redis confirmed it. On a large table whose statistics say almost
// no event is waiting (the last analyze saw none), the planner preferred the index of waiting events
// for that lookup, and every batch read every waiting event: intake slowed as a backlog grew.
describe("Intake's queued mark on a large table with stale statistics (real Postgres)", () => {
  const url = `${POSTGRES_URL}/${uniqueName('mh_test')}`;
  let db: DataSource;

  beforeAll(async () => {
    await prepareDatabase(url);
    db = new DataSource({ ...dataSourceOptions(url), extra: { max: 2 } });
    await db.initialize();
    // Statistics as autovacuum leaves them on a big table: taken when no event waited, not since.
    await db.query(`ALTER TABLE webhook_events SET (autovacuum_enabled = false)`);
  });
  afterAll(async () => {
    await db?.destroy();
    await dropDatabase(url);
  });

  it('finds the batch by primary key, reading only its rows however many events wait', async () => {
    await db.query(
      `INSERT INTO webhook_events (event_key, type, media, project_id, status, payload, processed_at)
       SELECT 'done-' || i, 'video.completed', 'video', 'p' || i, 'processed', '{}', now() FROM generate_series(1, 20000) AS i`,
    );
    await db.query(`ANALYZE webhook_events`);
    // A backlog arrives (the workers are down): thousands wait, which the statistics do not know.
    const waiting = (
      await db.query<Array<{ id: string }>>(
        `INSERT INTO webhook_events (event_key, type, media, project_id, status, payload)
         SELECT 'wait-' || i, 'video.completed', 'video', 'w' || i, 'received', '{}' FROM generate_series(1, 5000) AS i
         RETURNING id`,
      )
    ).map((row) => row.id);
    const batch = waiting.slice(-10);

    const plans: PlanNode[] = [];
    const explaining = {
      query: async (sql: string, parameters: unknown[]) => {
        const [row] = await db.query<Array<{ 'QUERY PLAN': Array<{ Plan: PlanNode }> }>>(
          `EXPLAIN (ANALYZE, FORMAT JSON) ${sql}`,
          parameters,
        );
        plans.push(row['QUERY PLAN'][0].Plan);
        return [];
      },
    } as unknown as DataSource;
    await new WebhookEventRepository(explaining).markEnqueued(batch);

    expect(plans).toHaveLength(1);
    const { rows, indexes } = scans(plans[0]);
    expect(indexes).toContain('webhook_events_pkey');
    expect(indexes).not.toContain('webhook_events_relay_idx');
    // The ten rows, each found once by the lookup and once by the update: nowhere near the 5,000 waiting.
    expect(rows).toBeLessThanOrEqual(4 * batch.length);
    const marked = await db.query<Array<{ n: number }>>(
      `SELECT count(*)::int AS n FROM webhook_events WHERE enqueued_at IS NOT NULL AND id = ANY($1::uuid[])`,
      [batch],
    );
    expect(marked).toEqual([{ n: batch.length }]);
  });
});
