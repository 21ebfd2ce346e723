import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../src/database/data-source.options.js';
import { dropDatabase, ensureDatabase, prepareDatabase } from '../src/database/database.bootstrap.js';
import { RelayIndex1764260000000 } from '../src/database/migrations/1764260000000-relay-index.js';
import { HandlerRelayIndex1764270000000 } from '../src/database/migrations/1764270000000-handler-relay-index.js';
import { HandlerRunRepository } from '../src/handlers/handler-run.repository.js';
import { WebhookEventRepository } from '../src/webhook/webhook-event.repository.js';
import { POSTGRES_URL, uniqueName } from './support/app.js';

const GRACE_MS = 3000;
const REQUEUE_AFTER_MS = 120_000;

/** A plan node of `EXPLAIN (ANALYZE, FORMAT JSON)`, as far as this test reads it. */
interface PlanNode {
  'Node Type': string;
  'Actual Rows': number;
  'Actual Loops': number;
  'Rows Removed by Filter'?: number;
  'Rows Removed by Index Recheck'?: number;
  Plans?: PlanNode[];
}

/** Rows the plan's scans of tables and indexes produced or read and threw away. */
function rowsRead(node: PlanNode): number {
  const own =
    node['Node Type'].includes('Scan') && !node['Node Type'].startsWith('Subquery')
      ? (node['Actual Rows'] + (node['Rows Removed by Filter'] ?? 0) + (node['Rows Removed by Index Recheck'] ?? 0)) * node['Actual Loops']
      : 0;
  return own + (node.Plans ?? []).reduce((sum, child) => sum + rowsRead(child), 0);
}

/**
 * Runs `find` against a stand-in for the data source that runs the repository's own SQL and
 * parameters under EXPLAIN ANALYZE on `db`; returns the plan of each statement.
 */
async function explainWith(db: DataSource, find: (explaining: DataSource) => Promise<unknown>): Promise<PlanNode[]> {
  const plans: PlanNode[] = [];
  const explaining = {
    query: async (sql: string, parameters: unknown[]) => {
      const [row] = await db.query<Array<{ 'QUERY PLAN': Array<{ Plan: PlanNode }> }>>(`EXPLAIN (ANALYZE, FORMAT JSON) ${sql}`, parameters);
      plans.push(row['QUERY PLAN'][0].Plan);
      return [];
    },
  } as unknown as DataSource;
  await find(explaining);
  return plans;
}

describe("The relay's question: which waiting events may the queue not hold (real Postgres)", () => {
  const url = `${POSTGRES_URL}/${uniqueName('mh_test')}`;
  let db: DataSource;
  let events: WebhookEventRepository;

  /** Stores `count` events in state `status`, received and queued the given seconds ago (null: never queued). */
  async function store(prefix: string, count: number, status: string, receivedAgo: number, enqueuedAgo: number | null): Promise<string[]> {
    const rows: Array<{ id: string }> = await db.query(
      `INSERT INTO webhook_events (event_key, type, media, project_id, status, payload, received_at, enqueued_at)
       SELECT $1 || i, 'video.completed', 'video', $1 || i, $2, '{}'::jsonb,
              now() - make_interval(secs => $3 + i / 1000.0),
              CASE WHEN $4::float8 IS NULL THEN NULL ELSE now() - make_interval(secs => $4::float8 + i / 1000.0) END
         FROM generate_series(1, $5::int) AS i
       RETURNING id`,
      [prefix, status, receivedAgo, enqueuedAgo, count],
    );
    return rows.map((row) => row.id);
  }

  beforeAll(async () => {
    await prepareDatabase(url);
    db = new DataSource({ ...dataSourceOptions(url), extra: { max: 2 } });
    await db.initialize();
    events = new WebhookEventRepository(db);
  });
  beforeEach(async () => {
    await db.query(`TRUNCATE webhook_events CASCADE`);
  });
  afterAll(async () => {
    await db?.destroy();
    await dropDatabase(url);
  });

  it('finds events never queued past the grace period and events queued too long ago, oldest first', async () => {
    const neverQueued = await store('never-', 2, 'received', 60, null);
    const queuedLongAgo = await store('long-', 2, 'received', 600, 300);
    await store('young-', 2, 'received', 1, null); // intake may still be handing these over
    await store('recent-', 2, 'received', 30, 30); // the queue holds these
    await store('done-', 2, 'processed', 600, 300); // nothing left to do

    const found = await events.findUnqueued(GRACE_MS, REQUEUE_AFTER_MS, 500);

    // By arrival: the long-queued ones arrived 600 s ago, the never-queued 60 s ago; within each
    // group, `store` makes the later index the earlier arrival.
    expect(found.map((event) => event.eventId)).toEqual([...queuedLongAgo.reverse(), ...neverQueued.reverse()]);
    expect(found.every((event) => event.media === 'video')).toBe(true);
  });

  it('returns at most `limit` events, the oldest, when both kinds are waiting', async () => {
    const queuedLongAgo = await store('long-', 5, 'received', 600, 300);
    await store('never-', 5, 'received', 60, null);

    const found = await events.findUnqueued(GRACE_MS, REQUEUE_AFTER_MS, 3);

    expect(found.map((event) => event.eventId)).toEqual(queuedLongAgo.reverse().slice(0, 3));
  });

  it('reads only the events it returns, however many queued events are waiting', async () => {
    // A backlog the workers have not reached yet: queued, so not the relay's business.
    await store('backlog-', 20_000, 'received', 30, 30);
    await store('processed-', 5_000, 'processed', 600, 300);
    await store('never-', 3, 'received', 60, null);
    await store('long-', 2, 'received', 600, 300);
    await db.query(`ANALYZE webhook_events`);

    const plans = await explainWith(db, (explaining) =>
      new WebhookEventRepository(explaining).findUnqueued(GRACE_MS, REQUEUE_AFTER_MS, 500),
    );

    expect(plans).toHaveLength(1);
    expect(plans[0]['Actual Rows']).toBe(5);
    // Each returned row read once by its half of the query; a scan of the waiting events would read 20,000 more.
    expect(rowsRead(plans[0])).toBeLessThanOrEqual(10);
    expect((await events.findUnqueued(GRACE_MS, REQUEUE_AFTER_MS, 500)).length).toBe(5);
  });
});

describe('The relay index migration on a database that already holds events (real Postgres)', () => {
  const url = `${POSTGRES_URL}/${uniqueName('mh_test')}`;
  let db: DataSource;

  /** The index as Postgres has it: its definition and whether it is valid, or undefined. */
  async function relayIndex(): Promise<{ definition: string; valid: boolean } | undefined> {
    const [row] = await db.query<Array<{ definition: string; valid: boolean }>>(
      `SELECT pg_get_indexdef(pg_index.indexrelid) AS definition, pg_index.indisvalid AS valid
         FROM pg_index JOIN pg_class ON pg_class.oid = pg_index.indexrelid
        WHERE pg_class.relname = 'webhook_events_relay_idx'`,
    );
    return row;
  }

  beforeAll(async () => {
    await ensureDatabase(url);
    // The schema as it was before this migration.
    const options = dataSourceOptions(url);
    const relayIndexes: unknown[] = [RelayIndex1764260000000, HandlerRelayIndex1764270000000];
    if (!Array.isArray(options.migrations)) throw new Error('dataSourceOptions is expected to list its migrations in an array');
    const before = new DataSource({ ...options, migrations: options.migrations.filter((m) => !relayIndexes.includes(m)) });
    await before.initialize();
    await before.runMigrations();
    await before.destroy();
    db = new DataSource({ ...options, extra: { max: 2 } });
    await db.initialize();
  });
  afterAll(async () => {
    await db?.destroy();
    await dropDatabase(url);
  });

  it('builds the index over the stored events, replacing one an interrupted build left invalid', async () => {
    await db.query(
      `INSERT INTO webhook_events (event_key, type, media, project_id, status, payload, enqueued_at)
       SELECT 'k' || i, 'video.completed', 'video', 'p' || i, 'received', '{}'::jsonb, now() FROM generate_series(1, 1000) AS i`,
    );
    // A concurrent build that failed half-way (here: unique over duplicates) leaves an invalid index.
    await expect(db.query(`CREATE UNIQUE INDEX CONCURRENTLY webhook_events_relay_idx ON webhook_events (media)`)).rejects.toThrow();
    expect(await relayIndex()).toMatchObject({ valid: false });

    await prepareDatabase(url);

    const index = await relayIndex();
    expect(index?.valid).toBe(true);
    expect(index?.definition).toContain("(enqueued_at, received_at, id) WHERE (status = 'received'::text)");
    const [{ applied }] = await db.query<Array<{ applied: number }>>(
      `SELECT count(*)::int AS applied FROM typeorm_migrations WHERE name IN ('RelayIndex1764260000000', 'HandlerRelayIndex1764270000000')`,
    );
    expect(applied).toBe(2);
    const [handlerIndex] = await db.query<Array<{ valid: boolean }>>(
      `SELECT pg_index.indisvalid AS valid FROM pg_index JOIN pg_class ON pg_class.oid = pg_index.indexrelid
        WHERE pg_class.relname = 'event_handler_runs_relay_idx'`,
    );
    expect(handlerIndex?.valid).toBe(true);
  });

  it('can be reverted as TypeORM reverts, in a transaction, and applied again', async () => {
    await prepareDatabase(url);
    const migrating = new DataSource({ ...dataSourceOptions(url), extra: { max: 1 } });
    await migrating.initialize();
    try {
      // The last two: the handler-run relay index, then the relay index.
      await migrating.undoLastMigration();
      await migrating.undoLastMigration();
    } finally {
      await migrating.destroy();
    }
    expect(await relayIndex()).toBeUndefined();
    const [{ left }] = await db.query<Array<{ left: number }>>(
      `SELECT count(*)::int AS left FROM typeorm_migrations WHERE name IN ('RelayIndex1764260000000', 'HandlerRelayIndex1764270000000')`,
    );
    expect(left).toBe(0);

    await prepareDatabase(url);
    expect(await relayIndex()).toMatchObject({ valid: true });
  });
});

describe("The relay's question about handler runs: which open runs may the queue not hold (real Postgres)", () => {
  const url = `${POSTGRES_URL}/${uniqueName('mh_test')}`;
  let db: DataSource;
  let runs: HandlerRunRepository;

  /**
   * Stores `count` processed events with one run each of `handler`, in `status`, last updated and
   * queued the given seconds ago (null: never queued), claimed for `claimedFor` seconds from now
   * (negative: a lapsed claim). Returns the event ids, the most recently updated first.
   */
  async function store(
    prefix: string,
    count: number,
    run: { handler?: string; status: string; updatedAgo: number; enqueuedAgo: number | null; claimedFor?: number },
  ): Promise<string[]> {
    const rows: Array<{ event_id: string }> = await db.query(
      `WITH events AS (
         INSERT INTO webhook_events (event_key, type, media, project_id, status, payload)
         SELECT $1 || i, 'video.completed', 'video', $1 || i, 'processed', jsonb_build_object('i', i)
           FROM generate_series(1, $2::int) AS i
         RETURNING id, (payload->>'i')::int AS i)
       INSERT INTO event_handler_runs (event_id, handler, status, updated_at, enqueued_at, claimed_until)
       SELECT id, $3, $4, now() - make_interval(secs => $5 + i / 1000.0),
              CASE WHEN $6::float8 IS NULL THEN NULL ELSE now() - make_interval(secs => $6::float8 + i / 1000.0) END,
              CASE WHEN $7::float8 IS NULL THEN NULL ELSE now() + make_interval(secs => $7::float8) END
         FROM events ORDER BY i
       RETURNING event_id`,
      [prefix, count, run.handler ?? 'TestHandler', run.status, run.updatedAgo, run.enqueuedAgo, run.claimedFor ?? null],
    );
    return rows.map((row) => row.event_id);
  }

  beforeAll(async () => {
    await prepareDatabase(url);
    db = new DataSource({ ...dataSourceOptions(url), extra: { max: 2 } });
    await db.initialize();
    runs = new HandlerRunRepository(db);
  });
  beforeEach(async () => {
    await db.query(`TRUNCATE webhook_events CASCADE`);
  });
  afterAll(async () => {
    await db?.destroy();
    await dropDatabase(url);
  });

  it('finds open runs never queued past the grace period or queued too long ago, each event once', async () => {
    const expected = [
      ...(await store('never-', 2, { status: 'pending', updatedAgo: 60, enqueuedAgo: null })),
      ...(await store('long-', 1, { status: 'pending', updatedAgo: 600, enqueuedAgo: 300 })),
      ...(await store('retrying-', 1, { status: 'failed', updatedAgo: 600, enqueuedAgo: 300 })),
      ...(await store('lapsed-', 1, { status: 'running', updatedAgo: 600, enqueuedAgo: 300, claimedFor: -10 })),
    ];
    // Two open runs of one event: the event comes back once.
    await db.query(
      `INSERT INTO event_handler_runs (event_id, handler, status, updated_at, enqueued_at)
       VALUES ($1, 'OtherHandler', 'pending', now() - interval '10 minutes', now() - interval '5 minutes')`,
      [expected[0]],
    );
    await store('young-', 2, { status: 'pending', updatedAgo: 1, enqueuedAgo: null });
    await store('recent-', 2, { status: 'pending', updatedAgo: 30, enqueuedAgo: 30 });
    await store('claimed-', 2, { status: 'running', updatedAgo: 600, enqueuedAgo: 300, claimedFor: 60 });
    await store('done-', 2, { status: 'succeeded', updatedAgo: 600, enqueuedAgo: 300 });
    await store('dead-', 2, { status: 'dead', updatedAgo: 600, enqueuedAgo: 300 });

    const found = await runs.findUnqueued(GRACE_MS, REQUEUE_AFTER_MS, 500);

    expect([...found].sort()).toEqual([...expected].sort());
  });

  it('reads only the runs it returns, however many queued runs are open', async () => {
    // The handlers' backlog: queued, so not the relay's business.
    await store('backlog-', 20_000, { status: 'pending', updatedAgo: 30, enqueuedAgo: 30 });
    const due = [
      ...(await store('never-', 3, { status: 'pending', updatedAgo: 60, enqueuedAgo: null })),
      ...(await store('long-', 2, { status: 'failed', updatedAgo: 600, enqueuedAgo: 300 })),
    ];
    await db.query(`ANALYZE event_handler_runs`);

    const plans = await explainWith(db, (explaining) => new HandlerRunRepository(explaining).findUnqueued(GRACE_MS, REQUEUE_AFTER_MS, 500));

    expect(plans).toHaveLength(1);
    expect(plans[0]['Actual Rows']).toBe(5);
    // Each returned run read once by its half of the query; a scan of the open runs would read 20,000 more.
    expect(rowsRead(plans[0])).toBeLessThanOrEqual(10);
    expect([...(await runs.findUnqueued(GRACE_MS, REQUEUE_AFTER_MS, 500))].sort()).toEqual([...due].sort());
  });
});

describe('Processes preparing one new database at the same time (real Postgres)', () => {
  const url = `${POSTGRES_URL}/${uniqueName('mh_test')}`;
  afterAll(async () => {
    await dropDatabase(url);
  });

  it('all finish, the migrations applied once, although concurrent index builds wait for older snapshots', async () => {
    // A process waiting inside pg_advisory_lock holds a snapshot, which a CREATE INDEX CONCURRENTLY
    // of the process holding the lock waits for: with a blocking wait, neither would ever finish.
    let timer: NodeJS.Timeout | undefined;
    const stuck = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('prepareDatabase did not finish within 20 s')), 20_000);
    });
    try {
      await Promise.race([Promise.all([prepareDatabase(url), prepareDatabase(url), prepareDatabase(url)]), stuck]);
    } finally {
      clearTimeout(timer);
    }
    const db = new DataSource({ type: 'postgres', url, extra: { max: 1 } });
    await db.initialize();
    try {
      const rows = await db.query<Array<{ n: number }>>(`SELECT name, count(*)::int AS n FROM typeorm_migrations GROUP BY name`);
      expect(rows).toHaveLength((dataSourceOptions(url).migrations as unknown[]).length);
      expect(rows.every((row) => row.n === 1)).toBe(true);
    } finally {
      await db.destroy();
    }
  }, 30_000);
});
