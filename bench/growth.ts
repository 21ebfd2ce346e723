/**
 * The benchmark's growth phases, selected on their own (they are long and need a lot of disk):
 *
 *   npm run bench -- --retention   # intake p99 at 1,000 events/s while a retention pass deletes 1,000,000 old events
 *   npm run bench -- --growth      # intake capacity and p99 on a 10,000,000-event table against an empty one
 *
 * Both compare within the run, on the same machine at the same time, so only their ratios mean much.
 */
import pg from 'pg';
import { prepareDatabase } from '../src/database/database.bootstrap.js';
import { RETENTION_LOCK_ID } from '../src/retention/retention.constants.js';
import type { OpenLoopResult } from './load.js';
import { startNode } from './processes.js';

/** What the growth phases use of `run.ts`. */
export interface GrowthContext {
  quick: boolean;
  rounds: number;
  openRounds: number;
  say(line?: string): void;
  fmt(n: number, digits?: number): string;
  newDatabase(): Promise<string>;
  databaseUrl(database: string): string;
  appEnv(database: string, role: 'api' | 'all'): Record<string, string>;
  service: string;
  capacity(urls: string[]): Promise<{ okPerSecond: number; p50: number; p99: number; failures: number }>;
  latency(url: string): Promise<OpenLoopResult>;
  reportLatency(name: string, rounds: OpenLoopResult[], rssMb: number): { p99: number; failures: number };
}

async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/**
 * `count` stored events of all nine types, as intake and the worker leave them: processed (1 in 50
 * ignored, failed or quarantined), keyed `type:project` with random cuid-like project ids (the worst
 * case for the unique index: each insert lands on a random leaf), payloads of the simulator's size,
 * arriving evenly from `fromDaysAgo` to `toDaysAgo`, with the time-ordered ids they would have had.
 */
function storedEventsSql(first: number, count: number, fromDaysAgo: number, toDaysAgo: number, total: number): string {
  return `INSERT INTO webhook_events (id, event_key, type, media, project_id, status, payload, received_at, enqueued_at, processed_at)
    SELECT magic_hour_uuid_v7(at), type || ':' || project, type, media, project,
           (ARRAY['processed','processed','processed','processed','processed','processed','processed','processed',
                  'processed','processed','processed','processed','processed','processed','processed','processed',
                  'processed','processed','processed','processed','processed','processed','processed','processed',
                  'processed','processed','processed','processed','processed','processed','processed','processed',
                  'processed','processed','processed','processed','processed','processed','processed','processed',
                  'processed','processed','processed','processed','processed','processed','processed',
                  'ignored','failed','quarantined'])[1 + i % 50],
           jsonb_build_object('id', project, 'name', 'bench render ' || i, 'status', 'complete', 'type', 'TEXT_TO_VIDEO',
             'created_at', to_char(at, 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), 'enabled', true, 'credits_charged', 10 + i % 400,
             'downloads', jsonb_build_array(jsonb_build_object('url', 'https://videos.magichour.ai/' || project || '/output.mp4',
                                                               'expires_at', to_char(at + interval '1 day', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))),
             'error', NULL, 'width', 1280, 'height', 720, 'fps', 30, 'start_seconds', 0, 'end_seconds', 5),
           at, at, at + interval '40 milliseconds'
      FROM (SELECT i, 'c' || substr(md5(i::text || 'bench'), 1, 24) AS project,
                   (ARRAY['video','image','audio'])[1 + (i / 3) % 3] AS media,
                   (ARRAY['started','completed','errored'])[1 + i % 3] AS action,
                   now() - make_interval(secs => ${fromDaysAgo * 86400} - (${(fromDaysAgo - toDaysAgo) * 86400}.0 * i / ${total})) AS at
              FROM generate_series(${first}, ${first + count - 1}) AS i) AS e,
           LATERAL (SELECT media || '.' || action AS type) AS t`;
}

/**
 * Fills `webhook_events` with `total` events in chunks, the indexes dropped first and built again
 * after (from their own definitions, so that the table ends as the migrations left it), then vacuums
 * and analyzes it as autovacuum would have, and checkpoints, so that no background flush of the load
 * overlaps the measurement.
 */
async function fill(ctx: GrowthContext, url: string, total: number, fromDaysAgo: number, toDaysAgo: number): Promise<void> {
  await withClient(url, async (client) => {
    await client.query(`SET maintenance_work_mem = '512MB'`);
    const constraints = (
      await client.query<{ name: string; def: string }>(
        `SELECT conname AS name, pg_get_constraintdef(oid) AS def FROM pg_constraint
          WHERE conrelid = 'webhook_events'::regclass AND contype IN ('p', 'u') ORDER BY contype`,
      )
    ).rows;
    const indexes = (
      await client.query<{ name: string; def: string }>(
        `SELECT indexname AS name, indexdef AS def FROM pg_indexes WHERE tablename = 'webhook_events'
            AND indexname NOT IN (SELECT conname FROM pg_constraint WHERE conrelid = 'webhook_events'::regclass)`,
      )
    ).rows;
    // Handler runs and conflicts reference the events; the table is empty, so their keys are dropped too.
    const references = (
      await client.query<{ table: string; name: string; def: string }>(
        `SELECT conrelid::regclass::text AS table, conname AS name, pg_get_constraintdef(oid) AS def FROM pg_constraint
          WHERE confrelid = 'webhook_events'::regclass AND contype = 'f'`,
      )
    ).rows;
    for (const ref of references) await client.query(`ALTER TABLE ${ref.table} DROP CONSTRAINT ${ref.name}`);
    for (const index of indexes) await client.query(`DROP INDEX ${index.name}`);
    for (const constraint of constraints) await client.query(`ALTER TABLE webhook_events DROP CONSTRAINT ${constraint.name}`);
    const chunk = 1_000_000;
    const started = performance.now();
    for (let first = 0; first < total; first += chunk) {
      await client.query(storedEventsSql(first, Math.min(chunk, total - first), fromDaysAgo, toDaysAgo, total));
      console.error(`filled ${Math.min(first + chunk, total)} of ${total} events (${ctx.fmt((performance.now() - started) / 1000)} s)`);
    }
    for (const constraint of constraints) {
      await client.query(`ALTER TABLE webhook_events ADD CONSTRAINT ${constraint.name} ${constraint.def}`);
    }
    for (const index of indexes) await client.query(index.def);
    for (const ref of references) await client.query(`ALTER TABLE ${ref.table} ADD CONSTRAINT ${ref.name} ${ref.def}`);
    console.error(`indexes built (${ctx.fmt((performance.now() - started) / 1000)} s)`);
    await client.query(`VACUUM (ANALYZE) webhook_events`);
    await client.query(`CHECKPOINT`);
    console.error(`vacuumed and checkpointed (${ctx.fmt((performance.now() - started) / 1000)} s)`);
  });
}

const megabytes = (url: string) =>
  withClient(url, async (client) => {
    const [row] = (
      await client.query<{ heap: string; indexes: string }>(
        `SELECT pg_table_size('webhook_events') AS heap, pg_indexes_size('webhook_events') AS indexes`,
      )
    ).rows;
    return `${(Number(row.heap) / 2 ** 20).toFixed(0)} MB table, ${(Number(row.indexes) / 2 ** 20).toFixed(0)} MB indexes`;
  });

/**
 * Intake's p99 at 1,000 events/s while a worker's retention pass deletes `OLD` old events: open-loop
 * rounds before the pass (the bench holds the retention lock, so the worker's passes skip), during it
 * (the lock released) and after it. The worker runs throughout, processing what intake stores.
 */
export async function retentionPhase(ctx: GrowthContext): Promise<void> {
  const OLD = ctx.quick ? 100_000 : 1_000_000;
  const database = await ctx.newDatabase();
  const url = ctx.databaseUrl(database);
  await prepareDatabase(url);
  const started = performance.now();
  await fill(ctx, url, OLD, 60, 40);
  ctx.say(`## Retention under load: intake at 1,000 events/s while a pass deletes ${OLD} events 40 to 60 days old`);
  ctx.say();
  ctx.say(
    `Filled in ${ctx.fmt((performance.now() - started) / 1000)} s (${await megabytes(url)}). One API process and one worker ` +
      `(RETENTION_INTERVAL_SECONDS=2). Before: the benchmark holds the retention lock, so the worker's passes skip; during: released, ` +
      `rounds run until the pass has deleted every old event; after: the same rounds once it ended.`,
  );
  ctx.say();
  const lock = new pg.Client({ connectionString: url });
  lock.on('error', () => undefined);
  await lock.connect();
  await lock.query('SELECT pg_advisory_lock($1)', [RETENTION_LOCK_ID]);
  const api = await startNode('retention-api', ctx.service, ctx.appEnv(database, 'api'), 4030);
  const worker = await startNode(
    'retention-worker',
    ctx.service,
    { ...ctx.appEnv(database, 'all'), APP_ROLE: 'worker', RETENTION_INTERVAL_SECONDS: '2' },
    4031,
  );
  const API = 'http://127.0.0.1:4030';
  // What EVENT_RETENTION_DAYS (30) makes deletable: the settled events; unresolved ones stay for 90 days.
  const oldLeft = async () =>
    Number(
      (
        await lock.query<{ n: string }>(
          `SELECT count(*) AS n FROM webhook_events WHERE status IN ('processed', 'ignored') AND received_at < now() - interval '30 days'`,
        )
      ).rows[0].n,
    );
  const deletable = await oldLeft();
  try {
    const before: OpenLoopResult[] = [];
    for (let round = 0; round < ctx.openRounds / 2; round++) before.push(await ctx.latency(API));
    await lock.query('SELECT pg_advisory_unlock($1)', [RETENTION_LOCK_ID]);
    const passStarted = performance.now();
    const during: OpenLoopResult[] = [];
    let left = deletable;
    while (left > 0 && performance.now() - passStarted < 30 * 60_000) {
      during.push(await ctx.latency(API));
      left = await oldLeft();
    }
    const passSeconds = (performance.now() - passStarted) / 1000;
    const after: OpenLoopResult[] = [];
    for (let round = 0; round < ctx.openRounds / 2; round++) after.push(await ctx.latency(API));
    ctx.say(`| rounds | requests/s | requests timed | p50 ms | p90 ms | p99 ms | p99 ms (each round) | non-2xx + errors | peak RSS MB |`);
    ctx.say(`|---|---|---|---|---|---|---|---|---|`);
    const without = ctx.reportLatency('before the pass', before, api.peakRssMb());
    const withPass = ctx.reportLatency('during the pass', during, api.peakRssMb());
    const afterPass = ctx.reportLatency('after the pass', after, api.peakRssMb());
    ctx.say();
    ctx.say(
      `The pass deleted ${deletable - left} of the ${deletable} settled old events (the unresolved ones stay for 90 days) within ${ctx.fmt(passSeconds)} s (measured by rounds of 7 s); ` +
        `p99 during / before: **${ctx.fmt(withPass.p99 / without.p99, 2)}**, during / after: **${ctx.fmt(withPass.p99 / afterPass.p99, 2)}**. ` +
        `Worker peak RSS ${ctx.fmt(worker.peakRssMb())} MB.`,
    );
    ctx.say();
  } finally {
    await lock.end();
    await Promise.all([api.stop(), worker.stop()]);
  }
}

/**
 * Intake capacity and p99 at 1,000 events/s with `webhook_events` holding `BIG` events (30 days of a
 * busy deployment under the default retention) against the same on an empty table: two API processes,
 * one per database, measured in alternating rounds.
 */
export async function growthPhase(ctx: GrowthContext): Promise<void> {
  const BIG = ctx.quick ? 1_000_000 : 10_000_000;
  const empty = await ctx.newDatabase();
  const big = await ctx.newDatabase();
  await prepareDatabase(ctx.databaseUrl(empty));
  await prepareDatabase(ctx.databaseUrl(big));
  const started = performance.now();
  await fill(ctx, ctx.databaseUrl(big), BIG, 30, 0);
  ctx.say(`## Growth: intake against ${BIG} stored events and against an empty table`);
  ctx.say();
  ctx.say(
    `Filled in ${ctx.fmt((performance.now() - started) / 1000)} s with SQL (${await megabytes(ctx.databaseUrl(big))}), ` +
      `vacuumed and checkpointed. One API process per database, measured in alternating rounds.`,
  );
  ctx.say();
  const emptyApi = await startNode('empty-api', ctx.service, ctx.appEnv(empty, 'api'), 4040);
  const bigApi = await startNode('big-api', ctx.service, ctx.appEnv(big, 'api'), 4041);
  const EMPTY = 'http://127.0.0.1:4040';
  const BIG_URL = 'http://127.0.0.1:4041';
  try {
    const capacity: Record<'empty' | 'big', number[]> = { empty: [], big: [] };
    for (let round = 0; round < ctx.rounds; round++) {
      capacity.empty.push((await ctx.capacity([EMPTY])).okPerSecond);
      capacity.big.push((await ctx.capacity([BIG_URL])).okPerSecond);
    }
    const median = (values: number[]) => [...values].sort((x, y) => x - y)[Math.floor(values.length / 2)];
    ctx.say(`| table | capacity 2xx/s (median) | each round |`);
    ctx.say(`|---|---|---|`);
    ctx.say(`| empty | ${ctx.fmt(median(capacity.empty))} | ${capacity.empty.map((n) => ctx.fmt(n)).join(' / ')} |`);
    ctx.say(`| ${BIG} events | ${ctx.fmt(median(capacity.big))} | ${capacity.big.map((n) => ctx.fmt(n)).join(' / ')} |`);
    ctx.say();
    const open: Record<'empty' | 'big', OpenLoopResult[]> = { empty: [], big: [] };
    for (let round = 0; round < ctx.openRounds; round++) {
      open.empty.push(await ctx.latency(EMPTY));
      open.big.push(await ctx.latency(BIG_URL));
    }
    ctx.say(`| table | requests/s | requests timed | p50 ms | p90 ms | p99 ms | p99 ms (each round) | non-2xx + errors | peak RSS MB |`);
    ctx.say(`|---|---|---|---|---|---|---|---|---|`);
    const emptyLatency = ctx.reportLatency('empty', open.empty, emptyApi.peakRssMb());
    const bigLatency = ctx.reportLatency(`${BIG} events`, open.big, bigApi.peakRssMb());
    ctx.say();
    ctx.say(
      `Capacity big / empty: **${ctx.fmt(median(capacity.big) / median(capacity.empty), 2)}**; ` +
        `p99 at 1,000 events/s big / empty: **${ctx.fmt(bigLatency.p99 / emptyLatency.p99, 2)}**.`,
    );
    ctx.say();
  } finally {
    await Promise.all([emptyApi.stop(), bigApi.stop()]);
  }
}
