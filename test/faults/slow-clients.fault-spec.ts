import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { TEST_SECRET } from '../support/app.js';
import { signedHeaders } from '../support/signing.js';
import { projectEvents } from './support/event-stream.js';
import { FaultBench, report, withLogsOnFailure } from './support/fault-bench.js';

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/** The service's file-descriptor limit: systemd's default soft limit, here as a hard one. */
const MAX_OPEN_FILES = 1024;
/** Slow clients at once: half without signature headers (as in the attack), half with forged ones. */
const SLOW_CLIENTS = 1000;
/** Each slow client announces this much body and sends one byte of it a second. */
const ANNOUNCED_BYTES = 200_000;

/** A connection sending a `POST /webhook` body a byte at a time, and what the server answered on it. */
interface SlowClient {
  socket: Socket;
  /** The status the server answered, if any, and when the connection closed (ms after it opened). */
  closed: Promise<{ status?: number; afterMs: number }>;
}

function openSlowClient(port: number, headers: Record<string, string>): Promise<SlowClient> {
  const head =
    `POST /webhook HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: ${ANNOUNCED_BYTES}\r\n` +
    Object.entries(headers)
      .map(([name, value]) => `${name}: ${value}\r\n`)
      .join('') +
    '\r\n{';
  return new Promise((done, fail) => {
    const opened = Date.now();
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => undefined);
    const closed = new Promise<{ status?: number; afterMs: number }>((resolve) =>
      socket.once('close', () => {
        const status = /^HTTP\/1\.1 (\d{3})/.exec(Buffer.concat(chunks).toString())?.[1];
        resolve({ status: status === undefined ? undefined : Number(status), afterMs: Date.now() - opened });
      }),
    );
    socket.once('connect', () => {
      socket.write(head);
      done({ socket, closed });
    });
    socket.once('error', fail);
  });
}

/** One signed delivery on a connection of its own: its status (0 when none came) and how long it took. */
function deliver(port: number, body: string, timeoutMs: number): Promise<{ status: number; ms: number; error?: string }> {
  const started = Date.now();
  return new Promise((done) => {
    const call = request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/webhook',
        agent: false,
        timeout: timeoutMs,
        headers: signedHeaders(body, TEST_SECRET),
      },
      (response) => {
        response.resume();
        response.on('end', () => done({ status: response.statusCode ?? 0, ms: Date.now() - started }));
      },
    );
    call.on('timeout', () => call.destroy(new Error('timeout')));
    call.on('error', (error: NodeJS.ErrnoException) => done({ status: 0, ms: Date.now() - started, error: error.code ?? error.message }));
    call.end(body);
  });
}

describe('Slow clients', () => {
  let bench: FaultBench | undefined;
  const slow: SlowClient[] = [];
  beforeAll(async () => {
    bench = await FaultBench.create();
  });
  afterAll(async () => {
    for (const client of slow) client.socket.destroy();
    await bench?.close();
  });

  it(`real deliveries keep flowing while ${SLOW_CLIENTS} connections trickle bodies, under a ${MAX_OPEN_FILES} file limit`, async () => {
    await withLogsOnFailure(bench, async () => {
      const b = bench!;
      const service = await b.start('api-slow', 'api', { maxOpenFiles: MAX_OPEN_FILES });
      const port = service.port;
      const forged = () => ({
        'magic-hour-event-signature': 'ab'.repeat(32),
        'magic-hour-event-timestamp': String(Math.floor(Date.now() / 1000)),
      });
      const openedAt = Date.now();
      for (let i = 0; i < SLOW_CLIENTS; i += 50) {
        const batch = Array.from({ length: 50 }, (_, j) => openSlowClient(port, (i + j) % 2 === 0 ? {} : forged()));
        slow.push(...(await Promise.all(batch)));
      }
      // One more byte a second on every connection still open.
      const trickle = setInterval(() => {
        for (const client of slow) if (!client.socket.destroyed) client.socket.write(' ');
      }, 1000);
      try {
        // Within the 10 s the slow ones may take: real deliveries and /health, one after another.
        const events = projectEvents(10);
        const answers: Array<{ status: number; ms: number; error?: string }> = [];
        for (const event of events) {
          answers.push(await deliver(port, event.body, 3000));
          await sleep(200);
        }
        const sentWithin = Date.now() - openedAt;
        expect(sentWithin).toBeLessThan(10_000);
        for (const answer of answers) expect(answer).toMatchObject({ status: 200 });
        expect(Math.max(...answers.map((answer) => answer.ms))).toBeLessThan(3000);
        const health = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(3000) });
        expect(health.status).toBe(200);

        // Then every slow one was answered: without signature headers 401 at once, forged ones 408 after the timeout.
        const closed = await Promise.all(slow.map((client) => client.closed));
        const unsigned = closed.filter((_, i) => i % 2 === 0);
        const forgedAnswers = closed.filter((_, i) => i % 2 === 1);
        expect(unsigned.every((answer) => answer.status === 401 && answer.afterMs < 5000)).toBe(true);
        expect(forgedAnswers.every((answer) => answer.status === 408 && answer.afterMs < 15_000)).toBe(true);
        expect((await b.progress()).stored).toBe(events.length);
        report(
          'slow clients',
          {},
          {
            slowClients: SLOW_CLIENTS,
            deliveriesMaxMs: Math.max(...answers.map((answer) => answer.ms)),
            forgedClosedAfterMaxMs: Math.max(...forgedAnswers.map((answer) => answer.afterMs)),
          },
        );
      } finally {
        clearInterval(trickle);
      }
    });
  });
});
