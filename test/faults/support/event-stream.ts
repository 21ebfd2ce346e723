import { Agent, request } from 'node:http';
import { ALL_TYPES, eventBody, projectId, type Action, type Media } from '../../support/events.js';
import { signedHeaders } from '../../support/signing.js';

/** One event the stream delivers: its body (as signed and sent) and its idempotency key. */
export interface StreamEvent {
  key: string;
  body: string;
  projectId: string;
}

/** One HTTP attempt: when it started and ended, and its answer or the connection error. */
export interface Attempt {
  event: number;
  target: number;
  start: number;
  end: number;
  /** HTTP status; absent when the connection failed. */
  status?: number;
  /** `duplicate` of a 2xx answer's body. */
  duplicate?: boolean;
  /** The error code when no answer came (ECONNREFUSED, ECONNRESET, timeout, ...). */
  error?: string;
}

/**
 * `projects` projects of all three media, two events each (started, then completed, both sent), so a
 * job ends `complete` only if both were applied.
 */
export function projectEvents(projects: number): StreamEvent[] {
  const medias = [...new Set(ALL_TYPES.map((type) => type.split('.')[0] as Media))];
  const events: StreamEvent[] = [];
  for (let i = 0; i < projects; i++) {
    const media = medias[i % medias.length];
    const id = projectId();
    for (const action of ['started', 'completed'] as Action[]) {
      const type = `${media}.${action}` as const;
      events.push({ key: `${type}:${id}`, body: eventBody(type, id), projectId: id });
    }
  }
  return events;
}

export interface StreamOptions {
  /** The ports to send to; read at each attempt, so a test can point the stream elsewhere. */
  ports: number[];
  secret: string;
  /** New events started per second (retries come on top). */
  rate: number;
  /** Requests in flight at most, over all ports. */
  concurrency: number;
  /** Send every event to every port at the same moment (else each event to one port, in turn). */
  fanOut?: boolean;
  /** Delay before an event that got no 2xx is sent again, as Magic Hour would. */
  retryDelayMs?: number;
  /** Longest one request may take before it counts as failed (`timeout`). */
  requestTimeoutMs?: number;
}

interface Unit {
  event: number;
  target: number;
  due: number;
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/**
 * Sends signed webhook events to the service at a steady rate over keep-alive connections, retrying
 * each delivery that gets no 2xx (a non-2xx answer or a connection error) after a short delay until it
 * gets one, as Magic Hour retries. Records every attempt, so that a test can say what was answered
 * when.
 */
export class EventStream {
  readonly attempts: Attempt[] = [];
  /** For each event and port: whether a 2xx came. */
  private readonly delivered: boolean[][];
  private readonly fresh: Unit[] = [];
  private readonly retries: Unit[] = [];
  private readonly agent: Agent;
  private stopped = false;
  private pending = 0;
  private lanes: Promise<void>[] = [];

  constructor(
    readonly events: readonly StreamEvent[],
    private readonly options: StreamOptions,
  ) {
    const targets = options.fanOut ? options.ports.length : 1;
    this.delivered = events.map(() => Array<boolean>(targets).fill(false));
    this.pending = events.length * targets;
    this.agent = new Agent({ keepAlive: true, maxSockets: options.concurrency });
  }

  /** Starts sending; `finished()` resolves once every delivery got a 2xx. */
  start(): void {
    const startedAt = Date.now();
    const interval = 1000 / this.options.rate;
    this.events.forEach((_, event) => {
      const due = startedAt + event * interval;
      if (this.options.fanOut) this.options.ports.forEach((_, target) => this.fresh.push({ event, target, due }));
      else this.fresh.push({ event, target: event % this.options.ports.length, due });
    });
    this.fresh.reverse(); // popped from the end, in order
    this.lanes = Array.from({ length: this.options.concurrency }, () => this.lane());
  }

  /** Resolves once every delivery got a 2xx, or rejects after `timeoutMs`. */
  async finished(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.pending > 0) {
      if (Date.now() > deadline) {
        throw new Error(`${this.pending} deliveries still without a 2xx after ${timeoutMs} ms; ${JSON.stringify(this.summary())}`);
      }
      await sleep(50);
    }
    await this.stop();
  }

  /** Stops sending (retries included); requests still in flight are aborted. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.agent.destroy();
    await Promise.all(this.lanes);
  }

  /** Events that got a 2xx from some port so far. */
  get answered(): number {
    return this.delivered.filter((targets) => targets.some(Boolean)).length;
  }

  /** Counts over all attempts. */
  summary(): { sent: number; attempts: number; answered2xx: number; statuses: Record<string, number>; errors: Record<string, number> } {
    const statuses: Record<string, number> = {};
    const errors: Record<string, number> = {};
    for (const attempt of this.attempts) {
      if (attempt.status !== undefined) statuses[attempt.status] = (statuses[attempt.status] ?? 0) + 1;
      else errors[attempt.error!] = (errors[attempt.error!] ?? 0) + 1;
    }
    return { sent: this.events.length, attempts: this.attempts.length, answered2xx: this.answered, statuses, errors };
  }

  /** The next delivery that is due, or how long until one is. */
  private next(): Unit | number {
    const now = Date.now();
    // Every retry waits the same delay, so `retries` is in order of due time.
    if (this.retries.length > 0 && this.retries[0].due <= now) return this.retries.shift()!;
    const fresh = this.fresh.at(-1);
    if (fresh && fresh.due <= now) return this.fresh.pop()!;
    const dues = [this.retries[0]?.due, fresh?.due].filter((due): due is number => due !== undefined);
    return Math.min(50, ...dues.map((due) => due - now));
  }

  private async lane(): Promise<void> {
    while (!this.stopped && this.pending > 0) {
      const unit = this.next();
      if (typeof unit === 'number') {
        await sleep(Math.max(1, unit));
        continue;
      }
      const attempt = await this.send(unit);
      this.attempts.push(attempt);
      if (attempt.status !== undefined && attempt.status >= 200 && attempt.status < 300) {
        const slot = this.options.fanOut ? unit.target : 0;
        if (!this.delivered[unit.event][slot]) {
          this.delivered[unit.event][slot] = true;
          this.pending--;
        }
      } else if (!this.stopped) {
        this.retries.push({ ...unit, due: Date.now() + (this.options.retryDelayMs ?? 250) });
      }
    }
  }

  private send(unit: Unit): Promise<Attempt> {
    const event = this.events[unit.event];
    const port = this.options.ports[unit.target % this.options.ports.length];
    const start = Date.now();
    return new Promise<Attempt>((done) => {
      const req = request(
        {
          host: '127.0.0.1',
          port,
          method: 'POST',
          path: '/webhook',
          agent: this.agent,
          headers: { ...signedHeaders(event.body, this.options.secret), 'content-length': Buffer.byteLength(event.body) },
          timeout: this.options.requestTimeoutMs ?? 20_000,
        },
        (response) => {
          let text = '';
          response.setEncoding('utf8');
          response.on('data', (chunk: string) => (text += chunk));
          response.on('end', () => {
            let duplicate: boolean | undefined;
            try {
              duplicate = (JSON.parse(text) as { duplicate?: boolean }).duplicate;
            } catch {
              duplicate = undefined;
            }
            done({ event: unit.event, target: unit.target, start, end: Date.now(), status: response.statusCode, duplicate });
          });
          response.on('error', (error: NodeJS.ErrnoException) =>
            done({ event: unit.event, target: unit.target, start, end: Date.now(), error: error.code ?? error.message }),
          );
        },
      );
      req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'timeout' })));
      req.on('error', (error: NodeJS.ErrnoException) =>
        done({ event: unit.event, target: unit.target, start, end: Date.now(), error: error.code ?? error.message }),
      );
      req.end(event.body);
    });
  }
}
