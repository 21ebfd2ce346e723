import { expect } from '@jest/globals';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import pg from 'pg';
import { dropDatabase, prepareDatabase } from '../../../src/database/database.bootstrap.js';
import { HANDLER_QUEUE, WEBHOOK_QUEUE } from '../../../src/queue/queue.constants.js';
import { freePort, POSTGRES_URL, TEST_API_KEY, TEST_SECRET, uniqueName } from '../../support/app.js';
import { RedisSentinelGroup } from '../../support/redis-sentinel.js';
import { RedisServer } from '../../support/redis-server.js';
import { TcpProxy } from '../../support/tcp-proxy.js';
import { EventStream, type StreamEvent, type StreamOptions } from './event-stream.js';
import { ServiceProcess } from './service-process.js';

/** The port of the machine's Postgres, which the suite reaches only through its own proxy. */
const POSTGRES_PORT = Number(new URL(POSTGRES_URL).port);

/**
 * Counts every committed application of an event: each update that marks a row `processed` with a new
 * `processed_at` or `attempts`, which the worker does exactly when it applies the event to its job (in
 * that transaction, so a rolled-back application leaves no row). No unique constraint: an event applied
 * twice shows as two rows.
 */
const APPLICATION_AUDIT = `
  CREATE TABLE fault_applications (
    event_id   uuid NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    -- The service process that applied it: each connects with its name as application_name.
    applied_by text NOT NULL DEFAULT current_setting('application_name')
  );
  CREATE FUNCTION fault_record_application() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    INSERT INTO fault_applications (event_id) VALUES (NEW.id);
    RETURN NEW;
  END $$;
  CREATE TRIGGER fault_record_application AFTER UPDATE ON webhook_events FOR EACH ROW
    WHEN (NEW.status = 'processed' AND (NEW.processed_at IS DISTINCT FROM OLD.processed_at OR NEW.attempts <> OLD.attempts))
    EXECUTE FUNCTION fault_record_application();

  -- Every start of a handler run: the claim is the one update that sets a run 'running'.
  CREATE TABLE fault_handler_starts (
    event_id   uuid NOT NULL,
    handler    text NOT NULL,
    started_by text NOT NULL DEFAULT current_setting('application_name')
  );
  CREATE FUNCTION fault_record_handler_start() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    INSERT INTO fault_handler_starts (event_id, handler) VALUES (NEW.event_id, NEW.handler);
    RETURN NEW;
  END $$;
  CREATE TRIGGER fault_record_handler_start AFTER UPDATE ON event_handler_runs FOR EACH ROW
    WHEN (NEW.status = 'running') EXECUTE FUNCTION fault_record_handler_start();`;

/** What Postgres holds at the end of a scenario, next to what the stream sent. */
export interface ScenarioCounts {
  /** Distinct events sent (each retried until it got a 2xx). */
  sent: number;
  /** HTTP attempts, retries included. */
  attempts: number;
  /** Events answered 2xx. */
  answered2xx: number;
  /** Rows in `webhook_events`. */
  stored: number;
  /** Rows `processed`. */
  processed: number;
  /** Committed applications (the audit trigger's rows). */
  applied: number;
  /** Most applications of one event. */
  maxAppliedPerEvent: number;
  /** Answers other than 2xx, by status. */
  statuses: Record<string, number>;
  /** Attempts that got no answer, by error. */
  errors: Record<string, number>;
  /** Jobs, and jobs `complete` with both events' timestamps. */
  jobs: number;
  jobsComplete: number;
}

/** An event sent outside the stream (a request held open across a fault), and whether it got a 2xx. */
export interface ExtraDelivery {
  event: StreamEvent;
  answered2xx: boolean;
}

/** Bull's lists and sets for one queue: jobs waiting, running, delayed (retries) and failed. */
export interface QueueCounts {
  wait: number;
  active: number;
  delayed: number;
  failed: number;
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/**
 * One scenario's world: a database of its own (migrated, with the application audit), reached by the
 * service only through a TCP proxy the test can cut; a `redis-server` of its own on a free port (or,
 * with `sentinel`, a master, a replica and a Sentinel); a queue prefix of its own; and the service
 * processes it started. The machine's Postgres and Redis, which other tests share, are never
 * disturbed. `close()` kills every process and removes it all.
 */
export class FaultBench {
  readonly services: ServiceProcess[] = [];
  private readonly streams: EventStream[] = [];
  readonly queuePrefix = uniqueName('mhq_fault');

  private sentinelGroup: RedisSentinelGroup | undefined;

  private constructor(
    readonly directUrl: string,
    readonly proxy: TcpProxy,
    private readonly redisServer: RedisServer | undefined,
    /** Direct to Postgres (not through the proxy), for assertions. */
    readonly db: pg.Pool,
  ) {}

  /** The scenario's `redis-server` (not with `sentinel`). */
  get redis(): RedisServer {
    if (!this.redisServer) throw new Error('this bench runs Redis under a Sentinel: use bench.sentinel');
    return this.redisServer;
  }

  /** The master, replica and Sentinel (only with `sentinel`). */
  get sentinel(): RedisSentinelGroup {
    if (!this.sentinelGroup) throw new Error('this bench runs one redis-server: use bench.redis');
    return this.sentinelGroup;
  }

  /** `sentinel`: Redis as a master, a replica and a Sentinel, which the services find the master through. */
  static async create(options: { sentinel?: boolean } = {}): Promise<FaultBench> {
    const name = uniqueName('mh_fault');
    const directUrl = `${POSTGRES_URL}/${name}`;
    const proxy = new TcpProxy(await freePort(), POSTGRES_PORT);
    const redis = options.sentinel ? undefined : new RedisServer(await freePort());
    const db = new pg.Pool({ connectionString: directUrl, max: 2 });
    // pool.end() does not wait for its clients' sockets to close, so dropping the database right after
    // can terminate one of them; the pool then emits 'error', which with no listener would fail the test.
    db.on('error', () => undefined);
    const bench = new FaultBench(directUrl, proxy, redis, db);
    try {
      await prepareDatabase(directUrl);
      await db.query(APPLICATION_AUDIT);
      await proxy.start();
      await redis?.start();
      if (options.sentinel) bench.sentinelGroup = await RedisSentinelGroup.start();
    } catch (error) {
      await bench.close();
      throw error;
    }
    return bench;
  }

  /** The database URL of the service process `name`: through the proxy, named after the process. */
  serviceDatabaseUrl(name: string): string {
    return `postgres://postgres@127.0.0.1:${this.proxy.port}${new URL(this.directUrl).pathname}?application_name=${name}`;
  }

  /**
   * Starts `node dist/src/main.js` in `role` on `port` (a free one by default) and waits until it is ready;
   * `maxOpenFiles` caps its file descriptors.
   */
  async start(
    name: string,
    role: 'api' | 'worker' | 'all',
    options: { port?: number; env?: Record<string, string>; maxOpenFiles?: number } = {},
  ): Promise<ServiceProcess> {
    const service = await ServiceProcess.start(
      name,
      options.port ?? (await freePort()),
      {
        NODE_ENV: 'production',
        NO_COLOR: '1',
        APP_ROLE: role,
        DATABASE_URL: this.serviceDatabaseUrl(name),
        ...(this.sentinelGroup ? this.sentinelGroup.env : { REDIS_URL: this.redis.url }),
        QUEUE_PREFIX: this.queuePrefix,
        MAGIC_HOUR_WEBHOOK_SECRET: TEST_SECRET,
        API_KEYS: TEST_API_KEY,
        ...options.env,
      },
      undefined,
      options.maxOpenFiles,
    );
    this.services.push(service);
    return service;
  }

  /** A stream of signed events (not started yet), stopped by `close()` whatever happens. */
  stream(events: readonly StreamEvent[], options: Omit<StreamOptions, 'secret'>): EventStream {
    const stream = new EventStream(events, { ...options, secret: TEST_SECRET });
    this.streams.push(stream);
    return stream;
  }

  /** Rows stored and processed now. */
  async progress(): Promise<{ stored: number; processed: number }> {
    const { rows } = await this.db.query<{ stored: number; processed: number }>(
      `SELECT count(*)::int AS stored, count(*) FILTER (WHERE status = 'processed')::int AS processed FROM webhook_events`,
    );
    return rows[0];
  }

  /** Bull's counts for the event queue (or the handler queue), read from the suite's redis-server (the master). */
  async queueCounts(queue: string = WEBHOOK_QUEUE): Promise<QueueCounts> {
    const key = `${this.queuePrefix}:${queue}`;
    const script = `LLEN ${key}:wait\nLLEN ${key}:active\nZCARD ${key}:delayed\nZCARD ${key}:failed\n`;
    const port = this.sentinelGroup ? await this.sentinelGroup.masterPort() : this.redis.port;
    const run = promisify(execFile)('redis-cli', ['-p', String(port)], { timeout: 5000 });
    run.child.stdin!.end(script);
    const { stdout: output } = await run;
    const [wait, active, delayed, failed] = output.trim().split('\n').map(Number);
    return { wait, active, delayed, failed };
  }

  /**
   * Waits until every stored event is processed and both queues hold no job waiting, running or
   * delayed, so that nothing is left that could still apply an event (a stalled job taken over, a retry).
   */
  async drained(expected: number, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const progress = await this.progress();
      const queues = await Promise.all([this.queueCounts(WEBHOOK_QUEUE), this.queueCounts(HANDLER_QUEUE)]).catch(() => null);
      const idle = queues !== null && queues.every((q) => q.wait + q.active + q.delayed === 0);
      if (progress.stored === expected && progress.processed === expected && idle) return;
      const last = JSON.stringify({ ...progress, expected, queues });
      if (Date.now() > deadline) {
        const { rows } = await this.db.query(
          `SELECT id, status, attempts, last_error, received_at, enqueued_at FROM webhook_events
            WHERE status <> 'processed' ORDER BY received_at LIMIT 5`,
        );
        throw new Error(`Not drained within ${timeoutMs} ms: ${last}; first unprocessed: ${JSON.stringify(rows)}`);
      }
      await sleep(250);
    }
  }

  /** Committed applications of events (the audit trigger's rows), and the most of one event. */
  async applications(): Promise<{ applied: number; maxAppliedPerEvent: number }> {
    const { rows } = await this.db.query<{ applied: number; max: number }>(
      `SELECT coalesce(sum(n), 0)::int AS applied, coalesce(max(n), 0)::int AS max
         FROM (SELECT count(*) AS n FROM fault_applications GROUP BY event_id) AS per_event`,
    );
    return { applied: rows[0].applied, maxAppliedPerEvent: rows[0].max };
  }

  /** The end state in Postgres next to what the stream (and the extra deliveries) saw. */
  async counts(stream: EventStream, extra: readonly ExtraDelivery[] = []): Promise<ScenarioCounts> {
    const summary = stream.summary();
    const { stored, processed } = await this.progress();
    const applied = await this.db.query<{ applied: number; max: number }>(
      `SELECT coalesce(sum(n), 0)::int AS applied, coalesce(max(n), 0)::int AS max
         FROM (SELECT count(*) AS n FROM fault_applications GROUP BY event_id) AS per_event`,
    );
    const jobs = await this.db.query<{ jobs: number; complete: number }>(
      `SELECT count(*)::int AS jobs,
              count(*) FILTER (WHERE status = 'complete' AND started_at IS NOT NULL AND completed_at IS NOT NULL)::int AS complete
         FROM jobs`,
    );
    const non2xx = Object.fromEntries(Object.entries(summary.statuses).filter(([status]) => !status.startsWith('2')));
    return {
      sent: summary.sent + extra.length,
      attempts: summary.attempts + extra.length,
      answered2xx: summary.answered2xx + extra.filter((delivery) => delivery.answered2xx).length,
      stored,
      processed,
      applied: applied.rows[0].applied,
      maxAppliedPerEvent: applied.rows[0].max,
      statuses: non2xx,
      errors: summary.errors,
      jobs: jobs.rows[0].jobs,
      jobsComplete: jobs.rows[0].complete,
    };
  }

  /**
   * The promise, checked in Postgres: every event sent was answered 2xx (after retries), stored once
   * (exactly the keys sent), processed, and applied exactly once; every job is complete.
   */
  async expectExactlyOnce(stream: EventStream, extra: readonly ExtraDelivery[] = []): Promise<ScenarioCounts> {
    const counts = await this.counts(stream, extra);
    const events = [...stream.events, ...extra.map((delivery) => delivery.event)];
    const { rows } = await this.db.query<{ event_key: string }>(`SELECT event_key FROM webhook_events`);
    const stored = rows.map((row) => row.event_key).sort();
    expect(stored).toEqual(events.map((event) => event.key).sort());
    const projects = new Set(events.map((event) => event.projectId)).size;
    expect(counts).toMatchObject({
      answered2xx: counts.sent,
      stored: counts.sent,
      processed: counts.sent,
      applied: counts.sent,
      maxAppliedPerEvent: 1,
      jobs: projects,
      jobsComplete: projects,
    });
    return counts;
  }

  /** Handler runs started (claims), and the most starts of one run (event and handler). */
  async handlerStarts(): Promise<{ starts: number; maxPerRun: number }> {
    const { rows } = await this.db.query<{ starts: number; max: number }>(
      `SELECT coalesce(sum(n), 0)::int AS starts, coalesce(max(n), 0)::int AS max
         FROM (SELECT count(*) AS n FROM fault_handler_starts GROUP BY event_id, handler) AS per_run`,
    );
    return { starts: rows[0].starts, maxPerRun: rows[0].max };
  }

  /** How many events each service process applied, by its name. */
  async appliedBy(): Promise<Record<string, number>> {
    const { rows } = await this.db.query<{ name: string; n: number }>(
      `SELECT applied_by AS name, count(*)::int AS n FROM fault_applications GROUP BY applied_by ORDER BY applied_by`,
    );
    return Object.fromEntries(rows.map((row) => [row.name, row.n]));
  }

  /** Every process's output, for a failure report. */
  logs(): string {
    const sentinel = this.sentinelGroup ? [`[sentinel]\n${this.sentinelGroup.log()}`] : [];
    return [...this.services.map((service) => service.logs()), ...sentinel].join('\n');
  }

  /** Kills every process, stops the proxy and redis-server, drops the database. Never throws. */
  async close(): Promise<void> {
    const steps: Array<() => Promise<unknown>> = [
      () => Promise.all(this.streams.map((stream) => stream.stop())),
      () => Promise.all(this.services.map((service) => service.stop())),
      () => this.proxy.cut(),
      async () => (this.sentinelGroup ?? this.redisServer)?.stop(),
      () => this.db.end(),
      () => dropDatabase(this.directUrl),
    ];
    for (const step of steps) await step().catch((error: Error) => process.stderr.write(`fault bench cleanup: ${error.message}\n`));
  }
}

/** Prints one scenario's counts on a line of its own, for the run's log and the README. */
export function report(scenario: string, counts: Partial<ScenarioCounts>, extra: Record<string, unknown> = {}): void {
  process.stdout.write(`[faults] ${scenario}: ${JSON.stringify({ ...counts, ...extra })}\n`);
}

/** Runs a scenario; when it fails, prints every process's output before failing. */
export async function withLogsOnFailure(bench: FaultBench | undefined, scenario: () => Promise<void>): Promise<void> {
  try {
    await scenario();
  } catch (error) {
    if (bench) process.stderr.write(`\n----- service output -----\n${bench.logs()}\n----- end of service output -----\n`);
    throw error;
  }
}
