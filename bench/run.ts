/**
 * `npm run bench`: intake capacity and latency against two baselines, then worker throughput on a
 * backlog, all in one run on this machine. See the README's "Performance" section.
 *
 *   npm run bench                 # one API process, one worker process
 *   npm run bench -- --scale      # also two API and two worker processes
 *   npm run bench -- --quick      # shorter phases, for trying changes
 */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { promisify } from 'node:util';
import pg from 'pg';
import { prepareDatabase } from '../src/database/database.bootstrap.js';
import { cpuTimes, stolenShare, type CpuTimes } from './cpu-steal.js';
import { blockDeviceStatFile, DiskStallWatch, overlaps, SAMPLE_MS, STALL_MIN_MS, STALL_SLACK_MS } from './disk-stalls.js';
import { closedLoop, presign, quantile, type LoadResult, type OpenLoopResult } from './load.js';
import { removeKeysUnder } from '../test/support/redis-keys.js';
import { startNode, stopAll, type Started } from './processes.js';

const run = promisify(execFile);
const args = new Set(process.argv.slice(2));
const QUICK = args.has('--quick');
const SCALE = args.has('--scale');
const CONNECTIONS = 64;
const CAPACITY_SECONDS = QUICK ? 5 : 10;
/** The NestJS baseline and the service are measured in alternating rounds; medians are compared. */
const ROUNDS = QUICK ? 1 : 3;
const WARMUP_SECONDS = QUICK ? 2 : 3;
const OPEN_RATE = 1000;
/**
 * Each closed-loop phase signs one event per request up to this rate, so that every request of the
 * service's rounds is a new event to store. Past it a phase's events would come round again as
 * duplicates, which intake answers without storing; a row where that happened says so.
 */
const UNIQUE_RATE = 15_000;
/**
 * A p99 rests on its slowest 1%, and pauses of the shared machine come and go over seconds; so the
 * latency phase alternates many short rounds between the two targets and pools each one's latencies.
 */
const OPEN_ROUNDS = QUICK ? 2 : 10;
const OPEN_SECONDS = 5;
/** Rounds each for the comparison with a worker processing beside the API (informational; see below). */
const WORKER_OPEN_ROUNDS = QUICK ? 1 : 5;
/** Each open-loop round's client sends this long, untimed, on its connections before the timed part. */
const OPEN_WARMUP_SECONDS = 2;
const BACKLOG = QUICK ? 20_000 : 100_000;
const SECRET = 'bench-secret-not-for-production';

const out: string[] = [];
const say = (line = '') => {
  console.log(line);
  out.push(line);
};
const fmt = (n: number, digits = 0) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');

async function admin<T>(sql: string): Promise<T[]> {
  return query<T>('postgres', sql);
}

async function query<T>(database: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: `postgres://postgres@127.0.0.1:5432/${database}` });
  await client.connect();
  try {
    return (await client.query(sql)).rows as T[];
  } finally {
    await client.end();
  }
}

function serviceEnv(database: string, role: string): Record<string, string> {
  return {
    NODE_ENV: 'production',
    MAGIC_HOUR_WEBHOOK_SECRET: SECRET,
    API_KEYS: 'bench-key',
    DATABASE_URL: `postgres://postgres@127.0.0.1:5432/${database}`,
    QUEUE_PREFIX: database,
    APP_ROLE: role,
  };
}

const median = (values: number[]) => [...values].sort((x, y) => x - y)[Math.floor(values.length / 2)];

/** Closed loop at saturation after a warm-up, across `urls` (connections split between them). */
async function capacity(urls: string[]): Promise<CapacityResult> {
  const perUrl = Math.floor(CONNECTIONS / urls.length);
  const warmupEvents = Math.ceil((UNIQUE_RATE * WARMUP_SECONDS) / urls.length);
  await Promise.all(urls.map((url) => closedLoop(url, presign(warmupEvents, SECRET), perUrl, WARMUP_SECONDS)));
  const events = Math.ceil((UNIQUE_RATE * CAPACITY_SECONDS) / urls.length);
  const results = await Promise.all(urls.map((url) => closedLoop(url, presign(events, SECRET), perUrl, CAPACITY_SECONDS)));
  return {
    repeated: results.some((r) => r.requests > events),
    requests: results.reduce((sum, r) => sum + r.requests, 0),
    rps: results.reduce((sum, r) => sum + r.rps, 0),
    p50: Math.max(...results.map((r) => r.p50)),
    p99: Math.max(...results.map((r) => r.p99)),
    non2xx: results.reduce((sum, r) => sum + r.non2xx, 0),
    errors: results.reduce((sum, r) => sum + r.errors, 0),
  };
}

/** What one capacity round measured, and whether it sent more requests than it had events. */
type CapacityResult = LoadResult & { repeated: boolean };

/** One table row: the median round by requests/s, all rounds' requests/s, failures summed, peak RSS. */
function report(name: string, rounds: CapacityResult[], processes: Started[]): CapacityResult {
  const middle = rounds.find((r) => r.rps === median(rounds.map((x) => x.rps)))!;
  const failures = rounds.reduce((sum, r) => sum + r.non2xx + r.errors, 0);
  const rss = Math.max(...processes.map((p) => p.peakRssMb()));
  const repeats = rounds.some((r) => r.repeated) ? ` (events repeated: over ${UNIQUE_RATE} req/s)` : '';
  say(
    `| ${name}${repeats} | ${fmt(middle.rps)} | ${rounds.map((r) => fmt(r.rps)).join(' / ')} | ${fmt(middle.p50, 1)} | ` +
      `${fmt(middle.p99, 1)} | ${failures} | ${fmt(rss)} |`,
  );
  return middle;
}

/**
 * The disk stalls during `rounds` and the share of their slowest requests (at or over `p99`) that were
 * waiting while one was under way: the evidence of what a durable service's tail is made of, next to
 * a baseline that never waits for the disk. `watch` is null where the disk could not be watched.
 */
function stallColumns(rounds: Round[], p99: number, watch: DiskStallWatch | null): string {
  if (!watch) return 'not measured | not measured';
  const stalls = rounds.flatMap((round) => {
    const ends = round.dueAt.map((due, i) => due + round.latencies[i]);
    return round.dueAt.length === 0 ? [] : watch.between(Math.min(...round.dueAt), Math.max(...ends));
  });
  const lengths = stalls.map((stall) => stall.to - stall.from);
  let slow = 0;
  let caught = 0;
  for (const round of rounds) {
    round.latencies.forEach((latency, i) => {
      if (latency < p99) return;
      slow++;
      const from = round.dueAt[i] - STALL_SLACK_MS;
      const to = round.dueAt[i] + latency + STALL_SLACK_MS;
      if (stalls.some((stall) => overlaps(stall, from, to))) caught++;
    });
  }
  const summary = stalls.length === 0 ? '0' : `${stalls.length}: longest ${fmt(Math.max(...lengths))}, in all ${fmt(lengths.reduce((a, b) => a + b, 0))}`;
  return `${summary} | ${slow === 0 ? 'n/a' : `${fmt((100 * caught) / slow)}%`}`;
}

/**
 * One latency table row: p50 and p99 of every round's latencies pooled, each round's p99, failures
 * summed, peak RSS, and the disk stalls during its rounds. Returns the pooled p99.
 */
function reportLatency(name: string, rounds: Round[], processes: Started[], watch: DiskStallWatch | null): number {
  const pooled = Float64Array.from(rounds.flatMap((r) => r.latencies)).sort();
  const seconds = rounds.reduce((sum, r) => sum + r.requests / r.rps, 0);
  const failures = rounds.reduce((sum, r) => sum + r.non2xx + r.errors, 0);
  const rss = Math.max(...processes.map((p) => p.peakRssMb()));
  const p99 = quantile(pooled, 0.99);
  const kinds = new Map<string, number>();
  for (const round of rounds) for (const [kind, n] of Object.entries(round.failures)) kinds.set(kind, (kinds.get(kind) ?? 0) + n);
  const failureText = kinds.size === 0 ? '0' : `${failures} (${[...kinds].map(([kind, n]) => `${kind}: ${n}`).join(', ')})`;
  say(
    `| ${name} | ${fmt(pooled.length / seconds)} | ${pooled.length} | ${fmt(quantile(pooled, 0.5), 1)} | ${fmt(quantile(pooled, 0.9), 1)} | ` +
      `${fmt(p99, 1)} | ${rounds.map((r) => fmt(r.p99, 1)).join(' / ')} | ${failureText} | ${fmt(rss)} | ${stolenText(rounds)} | ` +
      `${stallColumns(rounds, p99, watch)} |`,
  );
  return p99;
}

/** The share of the machine's CPU time the host stole over `rounds`, and in the worst of them. */
function stolenText(rounds: Round[]): string {
  const shares = rounds.map((r) => stolenShare(r.cpuBefore, r.cpuAfter));
  if (shares.some((share) => share === null)) return 'not measured';
  const total = (key: 'cpuBefore' | 'cpuAfter', field: keyof CpuTimes) => rounds.reduce((sum, r) => sum + r[key]![field], 0);
  const all = (total('cpuAfter', 'steal') - total('cpuBefore', 'steal')) / (total('cpuAfter', 'total') - total('cpuBefore', 'total'));
  return `${fmt(100 * all, 1)}% (worst round ${fmt(100 * Math.max(...(shares as number[])), 1)}%)`;
}

/** The header of a latency table. */
function latencyHeader(): void {
  say(`| target | requests/s | requests timed | p50 ms | p90 ms | p99 ms | p99 ms (each round) | non-2xx + errors | peak RSS MB | ` +
    `CPU time stolen by the host | disk stalls ≥ ${STALL_MIN_MS} ms in its rounds (ms) | of its requests at or over its p99, waiting during a stall |`);
  say(`|---|---|---|---|---|---|---|---|---|---|---|---|`);
}

/** In how many rounds (paired by index) the service's p99 was the lower, counting only real ones. */
const lowerRounds = (service: Round[], baseline: Round[]) =>
  service.filter((r, i) => Number.isFinite(r.p99) && r.p99 < baseline[i].p99).length;

/** An open-loop round, with the machine's CPU time (and what the host stole of it) during the round. */
type Round = OpenLoopResult & { cpuBefore: CpuTimes | null; cpuAfter: CpuTimes | null };

/**
 * One open-loop round from a client process of its own: `script` (under `dist/bench/`) is given its
 * target, then the rate, warm-up and timed seconds, and prints its `OpenLoopResult`.
 */
async function clientRound(script: string, target: string): Promise<Round> {
  const cpuBefore = cpuTimes();
  const { stdout } = await run(
    process.execPath,
    [`dist/bench/${script}`, target, String(OPEN_RATE), String(OPEN_WARMUP_SECONDS), String(OPEN_SECONDS)],
    // Sending, plus the longest a request or commit may wait (`bench/load.ts`), plus time to start and report.
    { env: { ...process.env, BENCH_SECRET: SECRET }, maxBuffer: 64 * 1024 * 1024, timeout: (OPEN_WARMUP_SECONDS + OPEN_SECONDS) * 1000 + 60_000 },
  );
  return { ...(JSON.parse(stdout) as OpenLoopResult), cpuBefore, cpuAfter: cpuTimes() };
}

/** One open-loop round against `url` (see `bench/open-loop.ts`). */
const latency = (url: string) => clientRound('open-loop.js', url);

/** One round of the commit probe on `database` (see `bench/commit-probe.ts`). */
const commitLatency = (database: string) => clientRound('commit-probe.js', `postgres://postgres@127.0.0.1:5432/${database}`);

/** Waits until no event of `database` is left to process; `name` is for the error past `limitMs`. */
async function waitProcessed(name: string, database: string, limitMs: number): Promise<void> {
  const client = new pg.Client({ connectionString: `postgres://postgres@127.0.0.1:5432/${database}` });
  client.on('error', () => undefined);
  await client.connect();
  try {
    const started = performance.now();
    for (;;) {
      const [{ n }] = (await client.query(`SELECT count(*)::int AS n FROM webhook_events WHERE status = 'received'`)).rows;
      if (n === 0) return;
      if (performance.now() - started > limitMs) throw new Error(`${name}: ${n} event(s) not processed in ${limitMs / 1000} s`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  } finally {
    await client.end();
  }
}

/** Stores a backlog of `count` received events (3 per job: started, completed, errored) straight in Postgres. */
async function storeBacklog(database: string, count: number): Promise<void> {
  await prepareDatabase(`postgres://postgres@127.0.0.1:5432/${database}`);
  const client = new pg.Client({ connectionString: `postgres://postgres@127.0.0.1:5432/${database}` });
  client.on('error', () => undefined);
  await client.connect();
  await client.query(
    `INSERT INTO webhook_events (event_key, type, media, project_id, status, payload, received_at)
     SELECT type || ':' || project, type, media, project, 'received',
            jsonb_build_object('id', project, 'name', 'bench', 'status', 'complete', 'type', 'TEXT_TO_VIDEO',
              'created_at', '2026-11-27T10:00:00.000Z', 'credits_charged', 10,
              'downloads', jsonb_build_array(jsonb_build_object('url', 'https://videos.magichour.ai/' || project,
                                                                'expires_at', '2026-11-28T10:00:00.000Z')),
              'error', NULL, 'width', 1280, 'height', 720),
            now() - make_interval(secs => ($1 - i) / 1000.0)
       FROM (SELECT i, 'bench' || (i / 3) AS project,
                    (ARRAY['video', 'image', 'audio'])[1 + (i / 3) % 3] AS media,
                    (ARRAY['started', 'completed', 'errored'])[1 + i % 3] AS action
               FROM generate_series(0, $1 - 1) AS i) AS e,
            LATERAL (SELECT media || '.' || action AS type) AS t`,
    [count],
  );
  await client.end();
}

async function drain(name: string, database: string, workers: number): Promise<void> {
  await storeBacklog(database, BACKLOG);
  const started = performance.now();
  const processes: Started[] = [];
  for (let i = 0; i < workers; i++) {
    processes.push(await startNode(`worker-${i}`, 'dist/src/main.js', serviceEnv(database, 'all'), 4100 + i));
  }
  await waitProcessed(name, database, 600_000);
  const seconds = (performance.now() - started) / 1000;
  const [{ failed }] = await query<{ failed: number }>(database, `SELECT count(*)::int AS failed FROM webhook_events WHERE status <> 'processed'`);
  const rss = Math.max(...processes.map((p) => p.peakRssMb()));
  say(`| ${name} | ${BACKLOG} | ${fmt(seconds, 1)} | ${fmt(BACKLOG / seconds)} | ${failed} | ${fmt(rss)} |`);
  await Promise.all(processes.map((p) => p.stop()));
}

async function main(): Promise<void> {
  const stamp = Date.now().toString(36);
  const databases: string[] = [];
  const newDatabase = async () => {
    const name = `mh_bench_${stamp}_${databases.length}`;
    databases.push(name);
    await admin(`CREATE DATABASE ${name}`);
    return name;
  };
  try {
    say(`# Benchmark results`);
    say();
    say(`${new Date().toISOString()} · ${availableParallelism()} cores (${cpus()[0]?.model.trim()}) · Node ${process.version}` +
      `${QUICK ? ' · --quick' : ''}`);
    say(`Load: pre-signed unique events of all nine types; client, service, Postgres and Redis share the machine.`);
    say();
    const bare = await startNode('bare', 'dist/bench/baselines/bare-http.js', {}, 4001);
    const nest = await startNode('nest', 'dist/bench/baselines/nest-minimal.js', {}, 4002);
    const intakeDb = await newDatabase();
    const api = await startNode('api', 'dist/src/main.js', serviceEnv(intakeDb, 'api'), 4000);
    const NEST = 'http://127.0.0.1:4002';
    const API = 'http://127.0.0.1:4000';

    say(`## Intake capacity: closed loop, ${CONNECTIONS} connections, ${CAPACITY_SECONDS} s after a ${WARMUP_SECONDS} s warm-up`);
    say();
    say(`${ROUNDS} alternating round(s) each for the NestJS baseline and the service; the row shows the median round.`);
    say();
    say(`| target | requests/s (median) | requests/s (each round) | p50 ms | p99 ms | non-2xx + errors | peak RSS MB |`);
    say(`|---|---|---|---|---|---|---|`);
    const bareRounds = [await capacity(['http://127.0.0.1:4001'])];
    const nestRounds: CapacityResult[] = [];
    const serviceRounds: CapacityResult[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      nestRounds.push(await capacity([NEST]));
      serviceRounds.push(await capacity([API]));
    }
    const bareResult = report('bare node:http, parse JSON, 200', bareRounds, [bare]);
    await bare.stop();
    const nestResult = report('minimal NestJS, controller returns 200', nestRounds, [nest]);
    const service = report('this service (APP_ROLE=api): verify, validate, store, queue', serviceRounds, [api]);
    if (SCALE) {
      const second = await startNode('api-2', 'dist/src/main.js', serviceEnv(intakeDb, 'api'), 4003);
      report('this service, two API processes', [await capacity([API, 'http://127.0.0.1:4003'])], [api, second]);
      await second.stop();
    }
    say();
    say(`Ratio of medians to the bare node:http baseline: ${fmt(service.rps / bareResult.rps, 2)}; ` +
      `to the minimal NestJS baseline: ${fmt(service.rps / nestResult.rps, 2)} ` +
      `(per round: ${serviceRounds.map((r, i) => fmt(r.rps / nestRounds[i].rps, 2)).join(', ')}).`);
    say();

    say(`## Intake latency: open loop, ${OPEN_RATE} events/s offered, ${OPEN_ROUNDS} rounds of ${OPEN_SECONDS} s each`);
    say();
    say(`Rounds alternate between the two targets and the commit probe; each round is a fresh client process that sends for ${OPEN_WARMUP_SECONDS} s ` +
      `untimed before its timed ${OPEN_SECONDS} s. Percentiles are over every timed request of a target's rounds together.`);
    say(`The commit probe is a reference for a durable answer, with no HTTP and no service: one-row INSERTs into the service's ` +
      `Postgres at the same rate, each its own transaction, timed from when each was due (\`bench/commit-loop.ts\`).`);
    // Every answer of the service waits for Postgres to flush its WAL to disk; the baseline's never does.
    const [{ dir }] = await admin<{ dir: string }>(`SELECT current_setting('data_directory') AS dir`);
    const statFile = blockDeviceStatFile(`${dir}/pg_wal`);
    const watch = statFile ? new DiskStallWatch(statFile) : null;
    say(statFile
      ? `A disk stall is a spell of at least ${STALL_MIN_MS} ms in which the disk holding Postgres's WAL had requests in flight and ` +
        `completed none (${statFile}, read every ${SAMPLE_MS} ms); a request is counted as waiting during one when its time from due to answered overlaps it.`
      : `Disk stalls not measured: no block device statistics for Postgres's WAL directory on this machine.`);
    say(`CPU time stolen by the host: of the machine's CPU time during a target's rounds, the share in which its virtual CPUs ` +
      `were ready to run and the host ran something else ("steal" in /proc/stat).`);
    say();
    latencyHeader();
    const nestOpenRounds: Round[] = [];
    const serviceOpenRounds: Round[] = [];
    const commitRounds: Round[] = [];
    for (let round = 0; round < OPEN_ROUNDS; round++) {
      nestOpenRounds.push(await latency(NEST));
      serviceOpenRounds.push(await latency(API));
      commitRounds.push(await commitLatency(intakeDb));
    }
    const nestP99 = reportLatency('minimal NestJS', nestOpenRounds, [nest], watch);
    const serviceP99 = reportLatency('this service (APP_ROLE=api)', serviceOpenRounds, [api], watch);
    const commitP99 = reportLatency('commit probe: Postgres alone, one-row INSERT per transaction', commitRounds, [], watch);
    say();
    say(`p99 of this service / of the NestJS baseline: ${fmt(serviceP99 / nestP99, 2)} ` +
      `(rounds where this service's p99 was the lower: ${lowerRounds(serviceOpenRounds, nestOpenRounds)} of ${OPEN_ROUNDS}); ` +
      `the commit probe's p99 alone is ${fmt(commitP99 / nestP99, 2)} of the baseline's.`);
    say();

    // The rounds above time intake alone: what the API took waits in the queue. Deployed, a worker
    // processes it at the same time, on the same cores and the same Postgres. Once a worker process has
    // caught up with everything the API took so far, the same comparison runs again beside it.
    say(`### The same, with a worker process processing the events as they come`);
    say();
    say(`A worker process (APP_ROLE=worker) first processes everything the API took in the phases above; ` +
      `then ${WORKER_OPEN_ROUNDS} rounds each, alternating as above.`);
    say();
    latencyHeader();
    const worker = await startNode('worker', 'dist/src/main.js', serviceEnv(intakeDb, 'worker'), 4004);
    await waitProcessed('the worker beside the API', intakeDb, 600_000);
    const nestWorkerRounds: Round[] = [];
    const serviceWorkerRounds: Round[] = [];
    for (let round = 0; round < WORKER_OPEN_ROUNDS; round++) {
      nestWorkerRounds.push(await latency(NEST));
      serviceWorkerRounds.push(await latency(API));
    }
    await waitProcessed('the worker beside the API', intakeDb, 60_000);
    const [{ taken, unprocessed }] = await query<{ taken: number; unprocessed: number }>(
      intakeDb,
      `SELECT count(*)::int AS taken, count(*) FILTER (WHERE status <> 'processed')::int AS unprocessed FROM webhook_events`,
    );
    watch?.stop();
    const nestWorkerP99 = reportLatency('minimal NestJS', nestWorkerRounds, [nest], watch);
    const serviceWorkerP99 = reportLatency('this service: the API (APP_ROLE=api), a worker beside it', serviceWorkerRounds, [api], watch);
    const workerRss = worker.peakRssMb();
    await Promise.all([nest.stop(), api.stop(), worker.stop()]);
    say();
    say(`p99 of this service / of the NestJS baseline: ${fmt(serviceWorkerP99 / nestWorkerP99, 2)} ` +
      `(rounds where this service's p99 was the lower: ${lowerRounds(serviceWorkerRounds, nestWorkerRounds)} of ${WORKER_OPEN_ROUNDS}); ` +
      `peak RSS of the worker, catching up included, ${fmt(workerRss)} MB. Of the ${taken} events the API took in this run, ${unprocessed} are not processed.`);
    say();

    say(`## Worker: a backlog of ${BACKLOG} stored events (3 per job), from process start to all processed`);
    say();
    say(`| processes (APP_ROLE=all) | events | seconds | events/s | not processed | peak RSS MB |`);
    say(`|---|---|---|---|---|---|`);
    await drain('one process', await newDatabase(), 1);
    if (SCALE) await drain('two processes', await newDatabase(), 2);
    say();
    writeFileSync('bench/results.md', `${out.join('\n')}\n`);
    console.log('\nWritten to bench/results.md');
  } finally {
    // A phase that failed half-way leaves its processes running, which would keep this one alive.
    await stopAll();
    for (const name of databases) await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => undefined);
    // Each database was also a queue prefix: leave nothing of the run in Redis either.
    await removeKeysUnder('redis://127.0.0.1:6379', databases).catch((error: unknown) => console.error(`Could not remove the bench's Redis keys: ${String(error)}`));
  }
}

await main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
