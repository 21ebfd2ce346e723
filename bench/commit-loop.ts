import pg from 'pg';
import { quantile, untilDue, type OpenLoopResult } from './load.js';

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

/** How long a commit may take from when it was due before it counts as failed: the open loop's limit. */
export const COMMIT_TIMEOUT_MS = 10_000;

/**
 * A reference for a durable answer: Postgres alone, with no HTTP and no service. Sends `rate`
 * one-row INSERTs a second on a fixed schedule, each its own transaction (so each waits for its WAL
 * flush, as an intake batch does), and times each from when it was due, as `openLoop` times a request.
 * A slow commit holds up the next only once all the pool's connections are busy; a commit not done
 * `timeoutMs` after it was due counts as failed (`ETIMEDOUT`), whatever it is waiting for.
 */
export async function commitLoop(
  databaseUrl: string,
  rate: number,
  warmupSeconds: number,
  seconds: number,
  timeoutMs = COMMIT_TIMEOUT_MS,
): Promise<OpenLoopResult> {
  if (![rate, rate * warmupSeconds, rate * seconds].every(Number.isInteger)) {
    throw new Error('commitLoop: rate, and rate times each duration, must be whole numbers');
  }
  // Idle connections stay open (`idleTimeoutMillis: 0`): every commit finds one logged in.
  const pool = new pg.Pool({ connectionString: databaseUrl, max: CONNECTIONS, idleTimeoutMillis: 0 });
  pool.on('error', () => undefined);
  const timers = new Set<NodeJS.Timeout>();
  let stuck = false;
  try {
    // Autovacuum off for it: the probe's rows must not give Postgres work during the other targets' rounds.
    await pool.query(
      `CREATE TABLE IF NOT EXISTS ${COMMIT_PROBE_TABLE} (id bigserial PRIMARY KEY, body jsonb NOT NULL) WITH (autovacuum_enabled = false)`,
    );
    const opened = await Promise.allSettled(Array.from({ length: CONNECTIONS }, () => pool.connect()));
    for (const result of opened) if (result.status === 'fulfilled') result.value.release();
    const refused = opened.find((result): result is PromiseRejectedResult => result.status === 'rejected');
    if (refused) throw refused.reason;

    const total = rate * (warmupSeconds + seconds);
    const timedFrom = rate * warmupSeconds;
    const latencies: number[] = [];
    const dueAt: number[] = [];
    let errors = 0;
    const failures: Record<string, number> = {};
    const failed = (i: number, kind: string) => {
      if (i < timedFrom) return;
      errors++;
      failures[kind] = (failures[kind] ?? 0) + 1;
    };
    const start = performance.now();
    const pending: Array<Promise<void>> = [];
    for (let i = 0; i < total; i++) {
      const due = start + (i * 1000) / rate;
      await untilDue(due);
      pending.push(
        new Promise<void>((resolve) => {
          const timer = setTimeout(() => {
            timers.delete(timer);
            stuck = true;
            failed(i, 'ETIMEDOUT');
            resolve();
          }, due + timeoutMs - performance.now());
          timers.add(timer);
          const settle = (record: () => void) => {
            if (!timers.delete(timer)) return; // timed out already
            clearTimeout(timer);
            record();
            resolve();
          };
          pool.query({ name: 'mh_bench_commit_probe', text: `INSERT INTO ${COMMIT_PROBE_TABLE} (body) VALUES ($1)`, values: [BODY] }).then(
            () =>
              settle(() => {
                if (i < timedFrom) return;
                dueAt.push(Math.round((performance.timeOrigin + due) * 10) / 10);
                latencies.push(Math.round((performance.now() - due) * 1000) / 1000);
              }),
            (error: NodeJS.ErrnoException) => settle(() => failed(i, error.code ?? error.message)),
          );
        }),
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
    for (const timer of timers) clearTimeout(timer);
    // A commit that timed out may still hold its connection: ending the pool would wait for it.
    if (stuck) void pool.end().catch(() => undefined);
    else await pool.end();
  }
}
