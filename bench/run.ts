/**
 * `npm run bench`: the service's performance targets, each as a ratio to a baseline measured in the
 * same run on this machine, written to `bench/results.md`.
 *
 *   npm run bench                 # the full run, about 10 minutes
 *   npm run bench -- --quick      # shorter phases and fewer rounds, for trying changes
 *   npm run bench -- --scale      # also intake by two API processes and a backlog drained by two
 *   npm run bench -- --retention  # only: intake p99 while retention deletes a million old events (bench/growth.ts)
 *   npm run bench -- --growth     # only: intake on a 10-million-event table against an empty one (bench/growth.ts)
 *
 * Baselines: a bare node:http server, a do-nothing NestJS controller (`baselines/nest-minimal.ts`) and
 * the conventional NestJS implementation of the same card (`baselines/conventional/`). Targets and
 * baselines are measured in alternating rounds, and medians (or pooled percentiles) are compared.
 */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { promisify } from 'node:util';
import pg from 'pg';
import { prepareDatabase } from '../src/database/database.bootstrap.js';
import { growthPhase, retentionPhase } from './growth.js';
import { closedLoop, presign, quantile, type OpenLoopResult } from './load.js';
import { removeKeysUnder } from '../test/support/redis-keys.js';
import { startNode, stopAll, type Started } from './processes.js';

const run = promisify(execFile);
const args = new Set(process.argv.slice(2));
const QUICK = args.has('--quick');
const SCALE = args.has('--scale');
/** The growth phases, run instead of the default ones when selected (long, and they need gigabytes of disk). */
const RETENTION = args.has('--retention');
const GROWTH = args.has('--growth');
const CONNECTIONS = 64;
/** Rounds of each target in the capacity and end-to-end phases (odd, so that the median is a round). */
const ROUNDS = QUICK ? 1 : 3;
const CAPACITY_SECONDS = QUICK ? 5 : 10;
const WARMUP_SECONDS = QUICK ? 2 : 3;
/**
 * Each closed-loop round signs one event per request up to this rate, so that every request is a new
 * event to store. Past it a round's events would come round again as duplicates; a row says so.
 */
const UNIQUE_RATE = 15_000;
const OPEN_RATE = 1000;
/** A p99 rests on its slowest 1%: the latency phase pools many short rounds per target. */
const OPEN_ROUNDS = QUICK ? 2 : 10;
const OPEN_SECONDS = 5;
/** Each open-loop round's client sends this long, untimed, on its connections before the timed part. */
const OPEN_WARMUP_SECONDS = 2;
/** The closed-loop part of an end-to-end round; the drain that follows is timed with it. */
const END_TO_END_SECONDS = QUICK ? 5 : 10;
/** Longest a drain may take before its round is reported with events left unprocessed. */
const DRAIN_LIMIT_MS = 300_000;
const BACKLOG = QUICK ? 20_000 : 100_000;
const SECRET = 'bench-secret-not-for-production';

/** The issue's targets. */
const TARGET = {
  capacityToNest: 0.6,
  capacityToConventional: 2,
  endToEndToConventional: 3,
  p99ToNest: 1.5,
  workerEventsPerSecond: 3000,
  rssMb: 250,
};

const out: string[] = [];
const say = (line = '') => {
  console.log(line);
  out.push(line);
};
const fmt = (n: number, digits = 0) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');
const median = (values: number[]) => [...values].sort((x, y) => x - y)[Math.floor(values.length / 2)];
const databaseUrl = (database: string) => `postgres://postgres@127.0.0.1:5432/${database}`;

async function query<T>(database: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: databaseUrl(database) });
  await client.connect();
  try {
    return (await client.query(sql)).rows as T[];
  } finally {
    await client.end();
  }
}

/** The environment of the service, or of the conventional baseline (which reads the same names). */
function appEnv(database: string, role: 'api' | 'all'): Record<string, string> {
  return {
    NODE_ENV: 'production',
    MAGIC_HOUR_WEBHOOK_SECRET: SECRET,
    API_KEYS: 'bench-key',
    DATABASE_URL: databaseUrl(database),
    QUEUE_PREFIX: database,
    APP_ROLE: role,
  };
}

const SERVICE = 'dist/src/main.js';
const CONVENTIONAL = 'dist/bench/baselines/conventional/main.js';

/** What one capacity round measured. */
interface CapacityRound {
  /** 2xx answers per second. */
  okPerSecond: number;
  p50: number;
  p99: number;
  failures: number;
  /** Whether it sent more requests than it had events, so that some were duplicates. */
  repeated: boolean;
}

/** Closed loop at saturation after a warm-up, across `urls` (connections split between them). */
async function capacity(urls: string[]): Promise<CapacityRound> {
  const perUrl = Math.floor(CONNECTIONS / urls.length);
  const warmupEvents = Math.ceil((UNIQUE_RATE * WARMUP_SECONDS) / urls.length);
  await Promise.all(urls.map((url) => closedLoop(url, presign(warmupEvents, SECRET), perUrl, WARMUP_SECONDS)));
  const events = Math.ceil((UNIQUE_RATE * CAPACITY_SECONDS) / urls.length);
  const results = await Promise.all(urls.map((url) => closedLoop(url, presign(events, SECRET), perUrl, CAPACITY_SECONDS)));
  return {
    okPerSecond: results.reduce((sum, r) => sum + r.ok / r.seconds, 0),
    p50: Math.max(...results.map((r) => r.p50)),
    p99: Math.max(...results.map((r) => r.p99)),
    failures: results.reduce((sum, r) => sum + r.non2xx + r.errors, 0),
    repeated: results.some((r) => r.requests > events),
  };
}

/** One capacity row: the median round by 2xx/s, every round's 2xx/s, failures summed, peak RSS. Returns the median. */
function reportCapacity(name: string, rounds: CapacityRound[], rssMb: number): number {
  const okPerSecond = median(rounds.map((r) => r.okPerSecond));
  const middle = rounds.find((r) => r.okPerSecond === okPerSecond)!;
  const repeats = rounds.some((r) => r.repeated) ? ` (events repeated: over ${UNIQUE_RATE} req/s)` : '';
  say(
    `| ${name}${repeats} | ${fmt(okPerSecond)} | ${rounds.map((r) => fmt(r.okPerSecond)).join(' / ')} | ${fmt(middle.p50, 1)} | ` +
      `${fmt(middle.p99, 1)} | ${rounds.reduce((sum, r) => sum + r.failures, 0)} | ${fmt(rssMb)} |`,
  );
  return okPerSecond;
}

/**
 * One open-loop round from a client process of its own (`bench/open-loop.ts`), so that neither the
 * benchmark's large event sets nor its garbage collector pause the client.
 */
async function latency(url: string): Promise<OpenLoopResult> {
  const { stdout } = await run(
    process.execPath,
    ['dist/bench/open-loop.js', url, String(OPEN_RATE), String(OPEN_WARMUP_SECONDS), String(OPEN_SECONDS)],
    // Sending, plus the longest a request may wait (`bench/load.ts`), plus time to start and report.
    {
      env: { ...process.env, BENCH_SECRET: SECRET },
      maxBuffer: 64 * 1024 * 1024,
      timeout: (OPEN_WARMUP_SECONDS + OPEN_SECONDS) * 1000 + 60_000,
    },
  );
  return JSON.parse(stdout) as OpenLoopResult;
}

/** What a target's open-loop rounds measured together. */
interface LatencySummary {
  p99: number;
  failures: number;
}

/** One latency row: percentiles over every round's latencies pooled, each round's p99, failures by kind. */
function reportLatency(name: string, rounds: OpenLoopResult[], rssMb: number): LatencySummary {
  const pooled = Float64Array.from(rounds.flatMap((r) => r.latencies)).sort();
  const seconds = rounds.reduce((sum, r) => sum + r.seconds, 0);
  const kinds = new Map<string, number>();
  for (const round of rounds) for (const [kind, n] of Object.entries(round.failures)) kinds.set(kind, (kinds.get(kind) ?? 0) + n);
  const failures = [...kinds.values()].reduce((a, b) => a + b, 0);
  const failureText = failures === 0 ? '0' : `${failures} (${[...kinds].map(([kind, n]) => `${kind}: ${n}`).join(', ')})`;
  const p99 = quantile(pooled, 0.99);
  say(
    `| ${name} | ${fmt(pooled.length / seconds)} | ${pooled.length} | ${fmt(quantile(pooled, 0.5), 1)} | ${fmt(quantile(pooled, 0.9), 1)} | ` +
      `${fmt(p99, 1)} | ${rounds.map((r) => fmt(r.p99, 1)).join(' / ')} | ${failureText} | ${fmt(rssMb)} |`,
  );
  return { p99, failures };
}

/** How many events a database holds, and how many of them are processed. */
async function eventCounts(client: pg.Client): Promise<{ stored: number; processed: number }> {
  const [row] = (
    await client.query<{ stored: number; processed: number }>(
      `SELECT count(*)::int AS stored, count(*) FILTER (WHERE status = 'processed')::int AS processed FROM webhook_events`,
    )
  ).rows;
  return row;
}

/**
 * Waits until no event in `client`'s database is left to process (the service and the conventional
 * baseline both keep `webhook_events.status`), or `limitMs` passes; gives how many are left.
 */
async function waitProcessed(client: pg.Client, limitMs: number): Promise<number> {
  const started = performance.now();
  for (;;) {
    const [{ left }] = (await client.query<{ left: number }>(`SELECT count(*)::int AS left FROM webhook_events WHERE status = 'received'`))
      .rows;
    if (left === 0 || performance.now() - started > limitMs) return left;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** A process taking and processing events, for the end-to-end phase, and a connection to its database. */
interface EndToEndTarget {
  name: string;
  url: string;
  process: Started;
  db: pg.Client;
}

/** What one end-to-end round measured. */
interface EndToEndRound {
  /** Events processed per second of the closed loop and the drain after it. */
  eventsPerSecond: number;
  /** Events stored per second of the closed loop. */
  intakePerSecond: number;
  drainSeconds: number;
  taken: number;
  unprocessed: number;
  failures: number;
}

/**
 * A closed loop of `seconds` at `CONNECTIONS` connections against a process that also processes, then
 * the time until it has processed everything it took: events processed over the whole time.
 */
async function endToEnd(target: EndToEndTarget, seconds: number): Promise<EndToEndRound> {
  const before = await eventCounts(target.db);
  const events = presign(UNIQUE_RATE * seconds, SECRET);
  const started = performance.now();
  const load = await closedLoop(target.url, events, CONNECTIONS, seconds);
  const loaded = performance.now();
  await waitProcessed(target.db, DRAIN_LIMIT_MS);
  const total = (performance.now() - started) / 1000;
  const after = await eventCounts(target.db);
  const taken = after.stored - before.stored;
  const processed = after.processed - before.processed;
  return {
    eventsPerSecond: processed / total,
    intakePerSecond: taken / ((loaded - started) / 1000),
    drainSeconds: (performance.now() - loaded) / 1000,
    taken,
    unprocessed: taken - processed,
    failures: load.non2xx + load.errors,
  };
}

/** One end-to-end row: the median round by events/s, and that round's details. Returns the median. */
function reportEndToEnd(name: string, rounds: EndToEndRound[], rssMb: number): number {
  const eventsPerSecond = median(rounds.map((r) => r.eventsPerSecond));
  const middle = rounds.find((r) => r.eventsPerSecond === eventsPerSecond)!;
  say(
    `| ${name} | ${fmt(eventsPerSecond)} | ${rounds.map((r) => fmt(r.eventsPerSecond)).join(' / ')} | ${middle.taken} | ` +
      `${fmt(middle.intakePerSecond)} | ${fmt(middle.drainSeconds, 1)} | ${rounds.reduce((sum, r) => sum + r.unprocessed, 0)} | ` +
      `${rounds.reduce((sum, r) => sum + r.failures, 0)} | ${fmt(rssMb)} |`,
  );
  return eventsPerSecond;
}

/** Stores a backlog of `count` received events (3 per job: started, completed, errored) straight in Postgres. */
async function storeBacklog(database: string, count: number): Promise<void> {
  await prepareDatabase(databaseUrl(database));
  await query(
    database,
    `INSERT INTO webhook_events (event_key, type, media, project_id, status, payload, received_at)
     SELECT type || ':' || project, type, media, project, 'received',
            jsonb_build_object('id', project, 'name', 'bench', 'status', 'complete', 'type', 'TEXT_TO_VIDEO',
              'created_at', '2026-11-27T10:00:00.000Z', 'credits_charged', 10,
              'downloads', jsonb_build_array(jsonb_build_object('url', 'https://videos.magichour.ai/' || project,
                                                                'expires_at', '2026-11-28T10:00:00.000Z')),
              'error', NULL, 'width', 1280, 'height', 720),
            now() - make_interval(secs => (${count} - i) / 1000.0)
       FROM (SELECT i, 'bench' || (i / 3) AS project,
                    (ARRAY['video', 'image', 'audio'])[1 + (i / 3) % 3] AS media,
                    (ARRAY['started', 'completed', 'errored'])[1 + i % 3] AS action
               FROM generate_series(0, ${count} - 1) AS i) AS e,
            LATERAL (SELECT media || '.' || action AS type) AS t`,
  );
}

/** `workers` APP_ROLE=all processes drain a stored backlog, from their start; one table row. */
async function drain(name: string, database: string, workers: number): Promise<{ eventsPerSecond: number; rssMb: number }> {
  await storeBacklog(database, BACKLOG);
  const db = new pg.Client({ connectionString: databaseUrl(database) });
  db.on('error', () => undefined);
  await db.connect();
  try {
    const started = performance.now();
    const processes: Started[] = [];
    for (let i = 0; i < workers; i++) processes.push(await startNode(`worker-${i}`, SERVICE, appEnv(database, 'all'), 4100 + i));
    const left = await waitProcessed(db, DRAIN_LIMIT_MS);
    const seconds = (performance.now() - started) / 1000;
    const { processed } = await eventCounts(db);
    const rssMb = Math.max(...processes.map((p) => p.peakRssMb()));
    say(`| ${name} | ${BACKLOG} | ${fmt(seconds, 1)} | ${fmt(processed / seconds)} | ${BACKLOG - processed} | ${fmt(rssMb)} |`);
    await Promise.all(processes.map((p) => p.stop()));
    if (left > 0) say(`(${left} events still not processed after ${DRAIN_LIMIT_MS / 1000} s)`);
    return { eventsPerSecond: processed / seconds, rssMb };
  } finally {
    await db.end();
  }
}

/** One row of the targets table: `measured / reference` against `required` (at least, or at most). */
function target(
  name: string,
  measured: string,
  reference: string,
  ratio: number,
  bound: '≥' | '≤' | '<',
  required: number,
  note = '',
): void {
  const met = bound === '≥' ? ratio >= required : bound === '≤' ? ratio <= required : ratio < required;
  say(
    `| ${name} | ${measured} | ${reference} | ${fmt(ratio, 2)} | ${bound} ${required} | ${met && note === '' ? 'PASS' : 'MISS'}${note} |`,
  );
}

async function main(): Promise<void> {
  const began = performance.now();
  const stamp = Date.now().toString(36);
  const databases: string[] = [];
  const newDatabase = async () => {
    const name = `mh_bench_${stamp}_${databases.length}`;
    databases.push(name);
    await query('postgres', `CREATE DATABASE ${name}`);
    return name;
  };
  try {
    say(`# Benchmark results`);
    say();
    say(
      `${new Date().toISOString()} · ${availableParallelism()} cores (${cpus()[0]?.model.trim()}) · Node ${process.version}` +
        `${QUICK ? ' · --quick' : ''}`,
    );
    say(`Load: pre-signed unique events of all nine types; client, service, baselines, Postgres and Redis share the machine.`);
    if (RETENTION || GROWTH) {
      const ctx = { quick: QUICK, rounds: ROUNDS, openRounds: OPEN_ROUNDS, say, fmt, newDatabase, databaseUrl, appEnv, service: SERVICE };
      const phases = { ...ctx, capacity, latency, reportLatency };
      say();
      if (RETENTION) await retentionPhase(phases);
      if (GROWTH) await growthPhase(phases);
      say(`Run time: ${fmt((performance.now() - began) / 60_000, 1)} min.`);
      writeFileSync('bench/results-growth.md', `${out.join('\n')}\n`);
      console.log('\nWritten to bench/results-growth.md');
      return;
    }
    say(
      `Conventional: the same card written the way most NestJS code is (\`bench/baselines/conventional/\`): \`rawBody\`, an HMAC guard, ` +
        `\`ValidationPipe\` over nested DTOs, a TypeORM insert guarded by the unique key, \`queue.add\` per request, one \`@Process()\` upserting the job row.`,
    );
    say();

    const bare = await startNode('bare', 'dist/bench/baselines/bare-http.js', {}, 4001);
    const nest = await startNode('nest', 'dist/bench/baselines/nest-minimal.js', {}, 4002);
    const apiDatabase = await newDatabase();
    const api = await startNode('api', SERVICE, appEnv(apiDatabase, 'api'), 4000);
    const conventionalApi = await startNode('conventional-api', CONVENTIONAL, appEnv(await newDatabase(), 'api'), 4005);
    const NEST = 'http://127.0.0.1:4002';
    const API = 'http://127.0.0.1:4000';

    say(`## Intake capacity: closed loop, ${CONNECTIONS} connections, ${CAPACITY_SECONDS} s after a ${WARMUP_SECONDS} s warm-up`);
    say();
    say(
      `${ROUNDS} alternating round(s) each for NestJS, the service and the conventional app, both with APP_ROLE=api ` +
        `(no processing in the process); each row shows its median round.`,
    );
    say();
    say(`| target | 2xx/s (median) | 2xx/s (each round) | p50 ms | p99 ms | non-2xx + errors | peak RSS MB |`);
    say(`|---|---|---|---|---|---|---|`);
    const bareRounds = [await capacity(['http://127.0.0.1:4001'])];
    reportCapacity('bare node:http, parse JSON, 200', bareRounds, bare.peakRssMb());
    await bare.stop();
    const nestRounds: CapacityRound[] = [];
    const serviceRounds: CapacityRound[] = [];
    const conventionalRounds: CapacityRound[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      nestRounds.push(await capacity([NEST]));
      serviceRounds.push(await capacity([API]));
      conventionalRounds.push(await capacity(['http://127.0.0.1:4005']));
    }
    const nestCapacity = reportCapacity('do-nothing NestJS controller', nestRounds, nest.peakRssMb());
    const serviceCapacity = reportCapacity('this service (APP_ROLE=api)', serviceRounds, api.peakRssMb());
    const conventionalCapacity = reportCapacity('conventional NestJS (APP_ROLE=api)', conventionalRounds, conventionalApi.peakRssMb());
    await conventionalApi.stop();
    if (SCALE) {
      const second = await startNode('api-2', SERVICE, appEnv(apiDatabase, 'api'), 4003);
      reportCapacity(
        'this service, two API processes',
        [await capacity([API, 'http://127.0.0.1:4003'])],
        Math.max(api.peakRssMb(), second.peakRssMb()),
      );
      await second.stop();
    }
    say();

    say(`## Intake latency: open loop, ${OPEN_RATE} events/s offered, ${OPEN_ROUNDS} alternating rounds of ${OPEN_SECONDS} s each`);
    say();
    say(
      `Each round is a fresh client process that sends for ${OPEN_WARMUP_SECONDS} s untimed before its timed ${OPEN_SECONDS} s, ` +
        `and times each request from when it was due. Percentiles are over every timed request of a target's rounds together.`,
    );
    say();
    say(`| target | requests/s | requests timed | p50 ms | p90 ms | p99 ms | p99 ms (each round) | non-2xx + errors | peak RSS MB |`);
    say(`|---|---|---|---|---|---|---|---|---|`);
    const nestOpenRounds: OpenLoopResult[] = [];
    const serviceOpenRounds: OpenLoopResult[] = [];
    for (let round = 0; round < OPEN_ROUNDS; round++) {
      nestOpenRounds.push(await latency(NEST));
      serviceOpenRounds.push(await latency(API));
    }
    const nestLatency = reportLatency('do-nothing NestJS controller', nestOpenRounds, nest.peakRssMb());
    const serviceLatency = reportLatency('this service (APP_ROLE=api)', serviceOpenRounds, api.peakRssMb());
    const apiRss = api.peakRssMb();
    await Promise.all([nest.stop(), api.stop()]);
    say();

    say(
      `## End to end: one process taking and processing events, closed loop ${END_TO_END_SECONDS} s at ${CONNECTIONS} connections, then until all are processed`,
    );
    say();
    say(
      `Events processed per second of the closed loop and the drain after it together. After a ${WARMUP_SECONDS} s warm-up (and its drain), ` +
        `${ROUNDS} alternating round(s) each; each row shows its median round.`,
    );
    say();
    say(
      `| target | events/s (median) | events/s (each round) | events taken | taken/s during the loop | drain s | not processed | non-2xx + errors | peak RSS MB |`,
    );
    say(`|---|---|---|---|---|---|---|---|---|`);
    const endToEndTargets: EndToEndTarget[] = [];
    for (const [name, script, port] of [
      ['this service (APP_ROLE=all)', SERVICE, 4010],
      ['conventional NestJS, processor in the same process', CONVENTIONAL, 4011],
    ] as const) {
      const database = await newDatabase();
      const started = await startNode(name, script, appEnv(database, 'all'), port);
      const db = new pg.Client({ connectionString: databaseUrl(database) });
      db.on('error', () => undefined);
      await db.connect();
      const entry = { name, url: `http://127.0.0.1:${port}`, process: started, db };
      endToEndTargets.push(entry);
      await closedLoop(entry.url, presign(UNIQUE_RATE * WARMUP_SECONDS, SECRET), CONNECTIONS, WARMUP_SECONDS);
      await waitProcessed(db, DRAIN_LIMIT_MS);
    }
    const endToEndRounds: EndToEndRound[][] = endToEndTargets.map(() => []);
    for (let round = 0; round < ROUNDS; round++) {
      for (const [i, entry] of endToEndTargets.entries()) endToEndRounds[i].push(await endToEnd(entry, END_TO_END_SECONDS));
    }
    const [serviceEndToEnd, conventionalEndToEnd] = endToEndTargets.map((entry, i) =>
      reportEndToEnd(entry.name, endToEndRounds[i], entry.process.peakRssMb()),
    );
    const endToEndRss = endToEndTargets[0].process.peakRssMb();
    for (const entry of endToEndTargets) {
      await entry.db.end();
      await entry.process.stop();
    }
    say();

    say(`## Worker: a backlog of ${BACKLOG} stored events (3 per job), from process start to all processed`);
    say();
    say(`| processes (APP_ROLE=all) | events | seconds | events/s | not processed | peak RSS MB |`);
    say(`|---|---|---|---|---|---|`);
    const worker = await drain('one process', await newDatabase(), 1);
    if (SCALE) await drain('two processes', await newDatabase(), 2);
    say();

    say(`## Targets`);
    say();
    say(`| target | this service | reference | ratio | required | result |`);
    say(`|---|---|---|---|---|---|`);
    target(
      'intake capacity, to the do-nothing NestJS controller',
      `${fmt(serviceCapacity)} 2xx/s`,
      `${fmt(nestCapacity)} 2xx/s`,
      serviceCapacity / nestCapacity,
      '≥',
      TARGET.capacityToNest,
    );
    target(
      'intake capacity, to the conventional implementation',
      `${fmt(serviceCapacity)} 2xx/s`,
      `${fmt(conventionalCapacity)} 2xx/s`,
      serviceCapacity / conventionalCapacity,
      '≥',
      TARGET.capacityToConventional,
    );
    target(
      'end-to-end throughput, to the conventional implementation',
      `${fmt(serviceEndToEnd)} events/s`,
      `${fmt(conventionalEndToEnd)} events/s`,
      serviceEndToEnd / conventionalEndToEnd,
      '≥',
      TARGET.endToEndToConventional,
    );
    target(
      `p99 at ${OPEN_RATE} events/s offered, to the do-nothing NestJS controller`,
      `${fmt(serviceLatency.p99, 1)} ms`,
      `${fmt(nestLatency.p99, 1)} ms`,
      serviceLatency.p99 / nestLatency.p99,
      '≤',
      TARGET.p99ToNest,
      serviceLatency.failures > 0 ? ` (${serviceLatency.failures} requests failed)` : '',
    );
    target(
      'worker, one process draining a backlog',
      `${fmt(worker.eventsPerSecond)} events/s`,
      `${TARGET.workerEventsPerSecond} events/s`,
      worker.eventsPerSecond / TARGET.workerEventsPerSecond,
      '≥',
      1,
    );
    const rss = Math.max(apiRss, endToEndRss, worker.rssMb);
    target(
      'peak RSS of any service process',
      `${fmt(rss)} MB (API ${fmt(apiRss)}, end to end ${fmt(endToEndRss)}, draining ${fmt(worker.rssMb)})`,
      `${TARGET.rssMb} MB`,
      rss / TARGET.rssMb,
      '<',
      1,
    );
    say();
    say(`Run time: ${fmt((performance.now() - began) / 60_000, 1)} min.`);
    writeFileSync('bench/results.md', `${out.join('\n')}\n`);
    console.log('\nWritten to bench/results.md');
  } finally {
    // A phase that failed half-way leaves its processes running, which would keep this one alive.
    await stopAll();
    for (const name of databases) await query('postgres', `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => undefined);
    // Each database was also a queue prefix: leave nothing of the run in Redis either.
    await removeKeysUnder('redis://127.0.0.1:6379', databases).catch((error: unknown) =>
      console.error(`Could not remove the bench's Redis keys: ${String(error)}`),
    );
  }
}

await main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
