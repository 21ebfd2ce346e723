import pg from 'pg';
import type { OpenLoopResult } from './load.js';
import { quantile } from './load.js';

/** The table the probe writes, in the database it is given; created if missing. */
export const COMMIT_PROBE_TABLE = 'bench_commit_probe';

/** A body about the size of a stored event's payload, so that each commit flushes a like amount of WAL. */
const BODY = JSON.stringify({
  id: 'cuid-probe-0000000000000000',
  name: 'bench',
  status: 'complete',
  type: 'TEXT_TO_VIDEO',
  created_at: '2026-11-27T10:00:00.000Z',
  credits_charged: 10,
  downloads: [{ url: 'https://videos.magichour.ai/probe', expires_at: '2026-11-28T10:00:00.000Z' }],
  error: null,
  width: 1280,
  height: 720,
});

/** Connections of the probe's pool: commits under way at once, at the most. */
const CONNECTIONS = 16;

/** How long one commit may take before it counts as failed; the open loop's own limit. */
const COMMIT_TIMEOUT_MS = 10_000;

/**
 * The floor under a durable answer: Postgres alone, with no HTTP and no service. Sends `rate`
 * one-row INSERTs a second on a fixed schedule, each its own transaction (so each waits for its WAL
 * flush, as an intake batch does), and times each from when it was due, as `openLoop` times a request.
 * A commit slower than the schedule does not hold up the next: each takes a free connection of a pool.
 */
export async function commitLoop(databaseUrl: string, rate: number, warmupSeconds: number, seconds: number): Promise<OpenLoopResult> {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: CONNECTIONS, statement_timeout: COMMIT_TIMEOUT_MS });
  pool.on('error', () => undefined);
  try {
    await pool.query(`CREATE TABLE IF NOT EXISTS ${COMMIT_PROBE_TABLE} (id bigserial PRIMARY KEY, body jsonb NOT NULL)`);
    // Every connection opened before the schedule starts, so that a slow commit never waits for a login.
    const clients = await Promise.all(Array.from({ length: CONNECTIONS }, () => pool.connect()));
    for (const client of clients) client.release();

    const total = rate * (warmupSeconds + seconds);
    const timedFrom = rate * warmupSeconds;
    const latencies: number[] = [];
    const dueAt: number[] = [];
    let errors = 0;
    const failures: Record<string, number> = {};
    const start = performance.now();
    const pending: Array<Promise<void>> = [];
    for (let i = 0; i < total; i++) {
      const due = start + (i * 1000) / rate;
      for (let wait = due - performance.now(); wait > 0; wait = due - performance.now()) {
        await new Promise((resolve) => setTimeout(resolve, Math.ceil(wait)));
      }
      pending.push(
        pool
          .query({ name: 'mh_bench_commit_probe', text: `INSERT INTO ${COMMIT_PROBE_TABLE} (body) VALUES ($1)`, values: [BODY] })
          .then(
            () => {
              if (i < timedFrom) return;
              dueAt.push(Math.round((performance.timeOrigin + due) * 10) / 10);
              latencies.push(Math.round((performance.now() - due) * 1000) / 1000);
            },
            (error: NodeJS.ErrnoException) => {
              if (i < timedFrom) return;
              errors++;
              const kind = error.code ?? error.message;
              failures[kind] = (failures[kind] ?? 0) + 1;
            },
          ),
      );
    }
    await Promise.all(pending);
    const elapsed = (performance.now() - start) / 1000 - warmupSeconds;
    const sorted = Float64Array.from(latencies).sort();
    return {
      requests: latencies.length,
      rps: latencies.length / elapsed,
      p50: quantile(sorted, 0.5),
      p99: quantile(sorted, 0.99),
      non2xx: 0,
      errors,
      failures,
      latencies,
      dueAt,
    };
  } finally {
    await pool.end();
  }
}
