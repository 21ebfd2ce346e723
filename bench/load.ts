import autocannon from 'autocannon';
import { Agent, request } from 'node:http';
import { ALL_TYPES, projectEventBody, projectId, randomProject } from '../src/simulator/events.js';
import { seededRandom } from '../src/simulator/random.js';
import { signedHeaders } from '../src/simulator/signing.js';
import { mediaOf, type Media } from '../src/magic-hour/magic-hour-event.types.js';

/** One request ready to send: a unique event and its signature headers. */
export interface SignedEvent {
  body: string;
  headers: Record<string, string>;
}

/**
 * `count` unique events cycling through all nine types, with the same realistic payloads as `mh`
 * (the same seed on every run, so runs compare), signed now with `secret` by `mh`'s signer.
 */
export function presign(count: number, secret: string): SignedEvent[] {
  const now = new Date();
  const timestamp = Math.floor(now.getTime() / 1000);
  const random = seededRandom(1);
  return Array.from({ length: count }, (_, i) => {
    const type = ALL_TYPES[i % ALL_TYPES.length];
    const body = projectEventBody(type, randomProject(mediaOf(type) as Media, random, now, projectId()), now);
    return { body, headers: signedHeaders(body, secret, timestamp) };
  });
}

/** What one load run measured. */
export interface LoadResult {
  requests: number;
  /** Answers per second, whatever their status. */
  rps: number;
  /** Answers with a 2xx status. */
  ok: number;
  /** How long the timed part lasted. */
  seconds: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
}

/**
 * Closed loop at saturation: `connections` clients each send the next event as soon as the previous
 * answer arrives, for `seconds`. Measures capacity.
 */
export async function closedLoop(url: string, events: SignedEvent[], connections: number, seconds: number): Promise<LoadResult> {
  let next = 0;
  const result = await autocannon({
    url,
    connections,
    duration: seconds,
    requests: [
      {
        method: 'POST',
        path: '/webhook',
        setupRequest: (req) => {
          const event = events[next++ % events.length];
          return { ...req, headers: event.headers, body: event.body };
        },
      },
    ],
  });
  return {
    requests: result.requests.total,
    rps: result.requests.average,
    ok: result['2xx'],
    seconds: result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
  };
}

/**
 * What one open-loop run measured, with the latency of every timed request (ms, in the order answered)
 * and what went wrong: each non-2xx status and each connection error's code, with how many times.
 */
export interface OpenLoopResult extends LoadResult {
  latencies: number[];
  failures: Record<string, number>;
}

/** The `q` quantile (0 to 1) of `sorted` latencies: the value below which that share of them falls. */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/**
 * Waits until `due` (`performance.now()` time), never less: a request sent before it is due would be
 * timed short. (A timer can fire a little early by the clock: Node measures it from the start of the
 * event loop's turn.)
 */
async function untilDue(due: number): Promise<void> {
  for (let wait = due - performance.now(); wait > 0; wait = due - performance.now()) {
    await new Promise((resolve) => setTimeout(resolve, Math.ceil(wait)));
  }
}

/** How long an open-loop request may wait for its answer: Magic Hour's own limit. */
const REQUEST_TIMEOUT_MS = 10_000;

/**
 * Open loop: sends `rate` requests a second on a fixed schedule, whether or not earlier ones were
 * answered, and times each from when it was due. A slow server cannot slow the offered load down,
 * so queueing shows in the latency instead of hiding (no coordinated omission).
 *
 * The first `warmupSeconds` of the schedule are sent but not timed, on the same keep-alive connections
 * as the rest, so the timed part neither opens connections nor follows a pause. Run it in a process of
 * its own (`bench/open-loop.ts`): the pauses of a client's own garbage collector count as the server's
 * latency, and the benchmark's main process holds the large event sets of the other phases.
 */
export async function openLoop(
  url: string,
  events: SignedEvent[],
  rate: number,
  warmupSeconds: number,
  seconds: number,
): Promise<OpenLoopResult> {
  const target = new URL('/webhook', url);
  // Idle connections close on this side after 4 s, before the servers' 5 s keep-alive timeout: else a
  // request can go out on a connection just as the server closes it, and fail with ECONNRESET. (Node's
  // agent reads the server's keep-alive hint only to shorten a timeout it already has.)
  const agent = new Agent({ keepAlive: true, maxSockets: 256, timeout: 4000 });
  const total = rate * (warmupSeconds + seconds);
  const timedFrom = rate * warmupSeconds;
  const latencies = new Float64Array(total - timedFrom);
  let timed = 0;
  let non2xx = 0;
  let errors = 0;
  const failures: Record<string, number> = {};
  const failed = (what: string) => (failures[what] = (failures[what] ?? 0) + 1);
  const start = performance.now();
  const pending: Array<Promise<void>> = [];

  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / rate;
    await untilDue(due);
    const event = events[i % events.length];
    pending.push(
      new Promise<void>((resolve) => {
        const req = request(
          target,
          { method: 'POST', agent, headers: { ...event.headers, 'content-length': Buffer.byteLength(event.body) } },
          (res) => {
            res.resume();
            res.on('end', () => {
              if (i >= timedFrom) {
                latencies[timed++] = performance.now() - due;
                if (res.statusCode === undefined || res.statusCode < 200 || res.statusCode >= 300) {
                  non2xx++;
                  failed(`HTTP ${res.statusCode}`);
                }
              }
              resolve();
            });
          },
        );
        // An answer that never comes is a failure, not a hang of the whole run.
        req.setTimeout(REQUEST_TIMEOUT_MS, () => req.destroy(Object.assign(new Error('no answer'), { code: 'ETIMEDOUT' })));
        req.on('error', (error: NodeJS.ErrnoException) => {
          if (i >= timedFrom) {
            errors++;
            failed(error.code ?? error.message);
          }
          resolve();
        });
        req.end(event.body);
      }),
    );
  }
  await Promise.all(pending);
  const elapsed = (performance.now() - start) / 1000 - warmupSeconds;
  agent.destroy();
  const answered = Array.from(latencies.subarray(0, timed), (ms) => Math.round(ms * 1000) / 1000);
  const sorted = latencies.subarray(0, timed).sort();
  return {
    requests: timed,
    rps: timed / elapsed,
    ok: timed - non2xx,
    seconds: elapsed,
    p50: quantile(sorted, 0.5),
    p99: quantile(sorted, 0.99),
    non2xx,
    errors,
    failures,
    latencies: answered,
  };
}
