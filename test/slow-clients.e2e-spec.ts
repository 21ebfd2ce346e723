import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import { eventually, startApp, TEST_SECRET, type TestApp } from './support/app.js';
import { eventBody, projectId } from './support/events.js';
import { captureLog } from './support/log-capture.js';
import { portOf } from './support/raw-http.js';
import { signedHeaders } from './support/signing.js';

/** What the server sent on a connection until it closed it, and when it closed it. */
interface Closed {
  text: string;
  status?: number;
  body?: unknown;
  afterMs: number;
}

/**
 * Opens a connection, sends `head` and then, once it is accepted, nothing more: the request stays
 * incomplete until the server gives up on it.
 */
function openIncomplete(port: number, head: string, timeoutMs: number): { socket: Socket; closed: Promise<Closed> } {
  const started = Date.now();
  const socket = connect(port, '127.0.0.1', () => socket.write(head));
  const closed = new Promise<Closed>((done) => {
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => socket.destroy(), timeoutMs);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString();
      const status = /^HTTP\/1\.1 (\d{3})/.exec(text)?.[1];
      const split = text.indexOf('\r\n\r\n');
      const length = Number(/^content-length: (\d+)$/im.exec(text)?.[1] ?? 0);
      done({
        text,
        status: status === undefined ? undefined : Number(status),
        body: split < 0 || length === 0 ? undefined : JSON.parse(text.slice(split + 4, split + 4 + length)),
        afterMs: Date.now() - started,
      });
    });
  });
  return { socket, closed };
}

/** The head of a `POST /webhook` announcing `length` bytes, with `headers`. */
const webhookHead = (length: number, headers: Record<string, string>): string =>
  `POST /webhook HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-length: ${length}\r\n` +
  Object.entries(headers)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('') +
  '\r\n';

describe('Slow clients (REQUEST_TIMEOUT_MS, early signature-header check)', () => {
  let t: TestApp;
  let port: number;
  const log = captureLog();
  const lines = () => log.lines();

  beforeAll(async () => {
    t = await startApp({ REQUEST_TIMEOUT_MS: '1500', LOG_LEVEL: 'debug' }, undefined, {
      logDestination: log.destination,
    });
    port = portOf(t.app.getHttpServer() as Server);
  });

  afterAll(async () => {
    await t?.close();
  });

  it('answers a signed delivery whose body stops coming 408 in JSON after REQUEST_TIMEOUT_MS, and logs the 408', async () => {
    const body = eventBody('video.completed', projectId());
    const head = webhookHead(Buffer.byteLength(body), { 'x-request-id': 'slow-body-0001', ...signedHeaders(body, TEST_SECRET) });
    const { closed } = openIncomplete(port, head + body.slice(0, 10), 10_000);
    const answer = await closed;
    expect(answer.status).toBe(408);
    expect(answer.body).toEqual({ statusCode: 408, error: 'Request Timeout', message: 'The request took too long to arrive' });
    expect(answer.afterMs).toBeGreaterThanOrEqual(1400);
    expect(answer.afterMs).toBeLessThan(4000);
    // The line is written once Node has let go of the request, a moment after the answer.
    const line = await eventually(() => Promise.resolve(lines().find((entry) => entry.reqId === 'slow-body-0001')), 3000, 50);
    expect(line).toMatchObject({
      level: 'warn',
      outcome: 'rejected',
      status: 408,
      msg: 'Webhook rejected (408): The request took too long to arrive',
    });
    const stored = await t.db.query<{ count: string }[]>('SELECT count(*) FROM webhook_events');
    expect(Number(stored[0].count)).toBe(0);
  });

  it('answers a request whose headers stop coming 408 after REQUEST_TIMEOUT_MS', async () => {
    const { closed } = openIncomplete(port, 'POST /webhook HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-le', 10_000);
    const answer = await closed;
    expect(answer.status).toBe(408);
    expect(answer.afterMs).toBeLessThan(4000);
  });

  it('closes a connection that sends nothing after REQUEST_TIMEOUT_MS', async () => {
    const { closed } = openIncomplete(port, '', 10_000);
    expect((await closed).afterMs).toBeLessThan(4000);
  });

  it.each([
    ['no signature header', { 'magic-hour-event-timestamp': '1700000000' }, 'missing signature header'],
    ['no timestamp header', { 'magic-hour-event-signature': 'ab'.repeat(32) }, 'missing timestamp header'],
    [
      'a signature that is not 64 hex characters',
      { 'magic-hour-event-signature': 'xyz', 'magic-hour-event-timestamp': '1700000000' },
      'signature is not 64 hex characters',
    ],
    [
      'a timestamp that is not digits',
      { 'magic-hour-event-signature': 'ab'.repeat(32), 'magic-hour-event-timestamp': 'soon' },
      'timestamp is not a whole number of seconds',
    ],
  ])('refuses a delivery with %s with 401 before its body arrives, and logs it as SignatureGuard does', async (_, headers, reason) => {
    const requestId = `early-${reason.replace(/\W+/g, '-')}`.slice(0, 60);
    // 100 KB announced, none sent: only a refusal made on the headers can come back before the timeout.
    const { closed } = openIncomplete(port, webhookHead(100_000, { 'x-request-id': requestId, ...headers }), 10_000);
    const answer = await closed;
    expect(answer.status).toBe(401);
    expect(answer.afterMs).toBeLessThan(1000);
    expect(answer.body).toEqual({ statusCode: 401, error: 'Unauthorized', message: `Invalid webhook signature: ${reason}` });
    expect(lines().find((entry) => entry.reqId === requestId)).toMatchObject({
      level: 'warn',
      context: 'WebhookController',
      outcome: 'rejected',
      status: 401,
      msg: `Webhook rejected (401): Invalid webhook signature: ${reason}`,
    });
  });
});

describe('MAX_CONNECTIONS', () => {
  let t: TestApp;
  let port: number;
  beforeAll(async () => {
    t = await startApp({ MAX_CONNECTIONS: '10', REQUEST_TIMEOUT_MS: '20000' });
    port = portOf(t.app.getHttpServer() as Server);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('closes connections past the limit unanswered, and takes new ones once others end', async () => {
    const held = Array.from({ length: 10 }, () => openIncomplete(port, '', 15_000));
    await Promise.all(held.map(({ socket }) => new Promise((ready) => socket.once('connect', ready))));
    await eventually(
      async () => (await new Promise<number>((count) => (t.app.getHttpServer() as Server).getConnections((_e, n) => count(n)))) === 10,
    );
    const refused = await openIncomplete(port, 'GET /health HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n', 5_000).closed;
    expect(refused.text).toBe('');
    expect(refused.afterMs).toBeLessThan(4_000);

    for (const { socket } of held) socket.destroy();
    await Promise.all(held.map(({ closed }) => closed));
    const body = eventBody('video.started', projectId());
    const answer = await fetch(`http://127.0.0.1:${port}/webhook`, { method: 'POST', headers: signedHeaders(body, TEST_SECRET), body });
    expect(answer.status).toBe(200);
  });
});
