import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { eventBody, projectId } from './support/events.js';
import { portOf, rawRequest, type RawAnswer } from './support/raw-http.js';
import { signedHeaders } from './support/signing.js';
import { startApp, TEST_API_KEY, TEST_SECRET, type TestApp } from './support/app.js';

/** A stack frame as Node prints it: must never reach a client. */
const STACK_FRAME = /\bat .*\.(ts|js):\d+/;

/** An HTTP/1.1 request as raw text: `headers` in order, repeated names allowed. */
const rawPost = (path: string, headers: Array<[string, string]>, body: string): string =>
  `POST ${path} HTTP/1.1\r\nHost: localhost\r\n${headers.map(([name, value]) => `${name}: ${value}\r\n`).join('')}` +
  `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;

/** Asserts a JSON error answer with `status`, in the service's shape and without a stack trace. */
function expectJsonError(answer: RawAnswer | null, status: number): void {
  expect(answer).not.toBeNull();
  expect(answer!.status).toBe(status);
  expect(answer!.headers['content-type']).toMatch(/^application\/json/);
  expect(JSON.parse(answer!.body)).toEqual({ statusCode: status, error: expect.any(String), message: expect.any(String) });
  expect(answer!.body).not.toMatch(STACK_FRAME);
}

describe('Hostile input to the HTTP server', () => {
  let t: TestApp;
  let port: number;
  const http = () => request(t.app.getHttpServer());
  const deliver = (body: string | Buffer, headers: Record<string, string> = signedHeaders(body, TEST_SECRET)) =>
    http().post('/webhook').set(headers).send(body);
  const storedFor = async (id: string) =>
    await t.db.query<Array<{ status: string }>>('SELECT status FROM webhook_events WHERE project_id = $1', [id]);

  beforeAll(async () => {
    t = await startApp();
    port = portOf(t.app.getHttpServer());
  });
  afterAll(async () => {
    await t?.close();
  });

  describe('content types', () => {
    it.each([
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/json; charset=utf-16',
      'application/xml',
    ])('refuses a signed event sent as %s with 415 before reading it, storing nothing', async (contentType) => {
      const id = projectId();
      const body = eventBody('video.completed', id);
      const answer = await deliver(body, { ...signedHeaders(body, TEST_SECRET), 'content-type': contentType });
      expect(answer.status).toBe(415);
      expect(answer.body).toEqual({
        statusCode: 415,
        error: 'Unsupported Media Type',
        message: 'Unsupported content type: send application/json',
      });
      expect(await storedFor(id)).toEqual([]);
    });

    it.each(['application/json', 'Application/JSON; charset="UTF-8"', 'application/vnd.magichour.event+json', null])(
      'accepts a signed event sent as %s',
      async (contentType) => {
        const id = projectId();
        const body = eventBody('video.started', id);
        const headers = signedHeaders(body, TEST_SECRET);
        const raw = rawPost(
          '/webhook',
          Object.entries(headers)
            .filter(([name]) => name !== 'content-type')
            .concat(contentType === null ? [] : [['content-type', contentType]]),
          body,
        );
        const answer = await rawRequest(port, raw);
        expect(answer?.status).toBe(200);
        expect(JSON.parse(answer!.body)).toEqual({ received: true, duplicate: false });
        expect(await storedFor(id)).toHaveLength(1);
      },
    );

    it('refuses two Content-Type headers with 400', async () => {
      const id = projectId();
      const body = eventBody('video.started', id);
      const headers = Object.entries(signedHeaders(body, TEST_SECRET));
      const answer = await rawRequest(port, rawPost('/webhook', [...headers, ['Content-Type', 'text/plain']], body));
      expectJsonError(answer, 400);
      expect(JSON.parse(answer!.body).message).toBe('Content-Type header sent more than once');
      expect(await storedFor(id)).toEqual([]);
    });
  });

  describe('repeated signature headers', () => {
    it.each(['magic-hour-event-signature', 'magic-hour-event-timestamp'])(
      'refuses %s sent twice, even with the right value both times, with 401',
      async (name) => {
        const id = projectId();
        const body = eventBody('video.completed', id);
        const headers = signedHeaders(body, TEST_SECRET);
        const answer = await rawRequest(port, rawPost('/webhook', [...Object.entries(headers), [name, headers[name]]], body));
        expectJsonError(answer, 401);
        expect(JSON.parse(answer!.body).message).toBe(`Invalid webhook signature: ${name} header sent more than once`);
        expect(await storedFor(id)).toEqual([]);
      },
    );
  });

  describe('requests Node refuses before any handler', () => {
    it('answers headers over the size limit with 431 JSON', async () => {
      const answer = await rawRequest(port, `GET /health HTTP/1.1\r\nHost: localhost\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
      expectJsonError(answer, 431);
      expect(answer!.headers.connection).toBe('close');
    });

    it.each([
      ['a garbage request line', 'GARBAGE\r\n\r\n'],
      ['a bad header name', 'GET /health HTTP/1.1\r\nHost: x\r\nBad Header: 1\r\n\r\n'],
      ['a control character in a header value', 'GET /health HTTP/1.1\r\nHost: x\r\nX-A: a\u0001b\r\n\r\n'],
      ['two different Content-Lengths', 'POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}'],
      [
        'Content-Length with Transfer-Encoding',
        'POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n{}',
      ],
      // With well-formed signature headers, or the delivery is refused on them before its body is read.
      [
        'a bad chunk size',
        `POST /webhook HTTP/1.1\r\nHost: x\r\nmagic-hour-event-signature: ${'ab'.repeat(32)}\r\nmagic-hour-event-timestamp: 1700000000\r\n` +
          'Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n',
      ],
      ['a bare LF in the request line', 'GET /health HTTP/1.1\nHost: x\n\n'],
    ])('answers %s with 400 JSON', async (_, raw) => {
      expectJsonError(await rawRequest(port, raw), 400);
    });

    it('answers an HTTP/1.1 request without a Host header with 400 JSON', async () => {
      const answer = await rawRequest(port, 'GET /health HTTP/1.1\r\n\r\n');
      expectJsonError(answer, 400);
      expect(JSON.parse(answer!.body).message).toBe('HTTP/1.1 requests must carry a Host header');
      const body = eventBody('video.started', projectId());
      const headers = Object.entries(signedHeaders(body, TEST_SECRET));
      const webhook = await rawRequest(port, rawPost('/webhook', headers, body).replace('Host: localhost\r\n', ''));
      expectJsonError(webhook, 400);
      // HTTP/1.0 has no Host requirement.
      expect((await rawRequest(port, 'GET /health HTTP/1.0\r\n\r\n'))?.status).toBe(200);
    });

    it('answers an Expect header other than 100-continue with 417 JSON', async () => {
      expectJsonError(await rawRequest(port, 'GET /health HTTP/1.1\r\nHost: x\r\nExpect: teapot\r\n\r\n'), 417);
    });

    it('keeps serving after all of that', async () => {
      expect((await http().get('/health')).status).toBe(200);
    });
  });

  describe('REST input Postgres cannot take', () => {
    const cursorOf = (at: string, id: string) => Buffer.from(JSON.stringify([at, id])).toString('base64url');

    it.each([
      ['a NUL in a job id', '/jobs/%00'],
      ['a control character in a job id', '/jobs/a%01b'],
      ['a NUL in the jobId filter', '/events?jobId=a%00'],
      ['a NUL in the type filter', '/events?type=%00'],
      ['a NUL in a cursor id', `/jobs?cursor=${cursorOf('2026-01-01T00:00:00.000Z', 'a\u0000b')}`],
      ['a cursor date Postgres cannot hold', `/jobs?cursor=${cursorOf('-271821-04-20T00:00:00.000Z', 'cabc')}`],
      ["a NUL in the console's jobId filter", '/admin/events?jobId=a%00b'],
      ["a NUL in the console's type filter", '/admin/events?type=%00'],
      ["a control character in the console's type filter", '/admin/events?type=video.%01'],
      ["a NUL in the console's status filter", '/admin/events?status=failed%00'],
      ["a NUL in the console's jobs filters", '/admin?status=%00&media=%00'],
      ['a NUL in a console jobs cursor id', `/admin?cursor=${cursorOf('2026-01-01T00:00:00.000Z', 'a\u0000b')}`],
      ['a NUL in a console events cursor id', `/admin/events?cursor=${cursorOf('2026-01-01T00:00:00.000Z', 'a\u0000b')}`],
      ['a NUL in a console job id', '/admin/jobs/a%00b'],
      ['a NUL in a console event id', '/admin/events/%00'],
      ['a NUL in the replay outcome the console shows', '/admin/events/00000000-0000-4000-8000-000000000000?replayed=%00'],
      ["a NUL in a query to Bull Board's API", '/admin/queues/api/queues?activeQueue=magic-hour-events&status=a%00b'],
      ["a control character in a query to Bull Board's API", '/admin/queues/api/queues?status=latest%1b'],
      ["a NUL in a queue name in Bull Board's API", '/admin/queues/api/queues/magic-hour-events%00/jobs/1'],
    ])('answers %s with 400 JSON, not 500', async (_, path) => {
      const answer = await http().get(path).set('authorization', `Bearer ${TEST_API_KEY}`);
      expect(answer.status).toBe(400);
      expect(answer.body).toEqual({ statusCode: 400, error: 'Bad Request', message: expect.anything() });
    });

    it("takes a cursor at JavaScript's last date (Postgres holds it), not 400 or 500", async () => {
      const path = `/events?cursor=${cursorOf('+275760-09-13T00:00:00.000Z', '00000000-0000-4000-8000-000000000000')}`;
      const answer = await http().get(path).set('authorization', `Bearer ${TEST_API_KEY}`);
      expect(answer.status).toBe(200);
      expect(answer.body).toMatchObject({ items: expect.any(Array) });
    });

    it('answers a NUL in the id of a console replay with 400 JSON, not 500', async () => {
      const answer = await http()
        .post('/admin/events/a%00b/replay')
        .set('authorization', `Bearer ${TEST_API_KEY}`)
        .type('form')
        .send({ csrf: 'x' });
      expect(answer.status).toBe(400);
      expect(answer.body).toEqual({ statusCode: 400, error: 'Bad Request', message: expect.anything() });
    });
  });

  describe('hostile bodies, signed', () => {
    it('quarantines a body of just null, keeping it as text', async () => {
      const answer = await deliver('null');
      expect(answer.status).toBe(200);
      expect(answer.body).toMatchObject({ quarantined: true });
      const [row] = await t.db.query(`SELECT payload, last_error FROM webhook_events WHERE payload = '"null"'::jsonb`);
      expect(row).toEqual({ payload: 'null', last_error: 'body must be a JSON object' });
    });

    it('quarantines malformed UTF-8, keeping the exact bytes', async () => {
      const bytes = Buffer.concat([
        Buffer.from('{"type":"video.started","payload":{"id":"'),
        Buffer.from([0xc3, 0x28, 0xff]),
        Buffer.from('"}}'),
      ]);
      const head = Buffer.from(
        rawPost('/webhook', Object.entries(signedHeaders(bytes, TEST_SECRET)), '').replace(
          /Content-Length: 0/,
          `Content-Length: ${bytes.length}`,
        ),
      );
      const answer = await rawRequest(port, Buffer.concat([head, bytes]));
      expect(answer?.status).toBe(200);
      expect(JSON.parse(answer!.body)).toEqual({ received: true, duplicate: false, quarantined: true });
      const [row] = await t.db.query(`SELECT payload, last_error FROM webhook_events WHERE payload = to_jsonb($1::text)`, [
        `base64:${bytes.toString('base64')}`,
      ]);
      expect(row).toEqual({ payload: `base64:${bytes.toString('base64')}`, last_error: 'body is not valid UTF-8' });
    });

    it('stores __proto__ and constructor keys as data and pollutes nothing in the running process', async () => {
      const id = projectId();
      const body =
        `{"__proto__":{"isAdmin":true},"type":"video.started","payload":{"id":"${id}","__proto__":{"isAdmin":true},` +
        `"constructor":{"prototype":{"isAdmin":true}},"error":{"__proto__":{"isAdmin":true}}}}`;
      const answer = await deliver(body);
      expect(answer.status).toBe(200);
      expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
      expect((Object.prototype as Record<string, unknown>).isAdmin).toBeUndefined();
      const [row] = await t.db.query(
        `SELECT status, payload -> '__proto__' AS proto, payload -> 'constructor' AS ctor FROM webhook_events WHERE project_id = $1`,
        [id],
      );
      expect(row).toEqual({
        status: expect.stringMatching(/^(received|processed)$/),
        proto: { isAdmin: true },
        ctor: { prototype: { isAdmin: true } },
      });
    });

    it('quarantines a number no double can hold in a checked field, keeping the body as its exact text', async () => {
      const id = projectId();
      const body = `{"type":"video.completed","payload":{"id":"${id}","credits_charged":1e400}}`;
      const answer = await deliver(body);
      expect(answer.body).toEqual({ received: true, duplicate: false, quarantined: true });
      const [row] = await t.db.query(`SELECT payload, last_error FROM webhook_events WHERE project_id = $1`, [id]);
      expect(row.payload).toBe(body);
      expect(row.last_error).toMatch(/credits_charged/);
    });

    it('stores an event with a 20-digit number in a field it does not check', async () => {
      const id = projectId();
      const body = `{"type":"video.started","payload":{"id":"${id}","ticket":12345678901234567890123}}`;
      expect((await deliver(body)).body).toEqual({ received: true, duplicate: false });
      expect(await storedFor(id)).toHaveLength(1);
    });

    it.each(['1e400', '-1e400', ' 1E999 ', '1e-400', '12345678901234567890', 'true', '"text"'])(
      'quarantines a top-level %j with 200, keeping its exact text',
      async (body) => {
        const answer = await deliver(body);
        expect(answer.status).toBe(200);
        expect(answer.body).toMatchObject({ received: true, quarantined: true });
        const stored = await t.db.query(`SELECT last_error FROM webhook_events WHERE payload = to_jsonb($1::text)`, [body]);
        expect(stored).toEqual([{ last_error: 'body must be a JSON object' }]);
      },
    );

    it('stores an event whose unchecked numbers no double holds exactly, with those numbers as sent', async () => {
      const id = projectId();
      const body = `{"type":"video.started","payload":{"id":"${id}","ticket":12345678901234567890123,"ratio":0.12345678901234567891}}`;
      expect((await deliver(body)).body).toEqual({ received: true, duplicate: false });
      const [row] = await t.db.query(
        `SELECT payload ->> 'ticket' AS ticket, payload ->> 'ratio' AS ratio FROM webhook_events WHERE project_id = $1`,
        [id],
      );
      expect(row).toEqual({ ticket: '12345678901234567890123', ratio: '0.12345678901234567891' });
    });

    it('quarantines an event nested deeper than 64 levels, keeping its text', async () => {
      const id = projectId();
      const body = `{"type":"video.started","payload":{"id":"${id}","x":${'['.repeat(4110)}${']'.repeat(4110)}}}`;
      expect((await deliver(body)).body).toEqual({ received: true, duplicate: false, quarantined: true });
      const [row] = await t.db.query(`SELECT status, payload #>> '{}' AS text FROM webhook_events WHERE project_id = $1`, [id]);
      expect(row).toEqual({ status: 'quarantined', text: body });
    });

    it('caps the messages of a 60,000-item list', async () => {
      const id = projectId();
      const body = `{"type":"video.completed","payload":{"id":"${id}","downloads":[${Array(60_000).fill('1').join(',')}]}}`;
      expect((await deliver(body)).body).toMatchObject({ quarantined: true });
      const [row] = await t.db.query(`SELECT length(last_error) AS n FROM webhook_events WHERE project_id = $1`, [id]);
      expect(row.n).toBeLessThan(21 * 302);
    });

    it('reads a body nested 4,110 levels deep stored before the limit without a 500, on every read path', async () => {
      const id = projectId();
      const deep = `{"id":"${id}","x":${'['.repeat(4110)}${']'.repeat(4110)}}`;
      const [row] = await t.db.query(
        `INSERT INTO webhook_events (event_key, type, media, project_id, status, payload)
         VALUES ($1, 'video.started', 'video', $2, 'processed', $3::jsonb) RETURNING id`,
        [`video.started:${id}`, id, deep],
      );
      await t.db.query(`INSERT INTO webhook_event_conflicts (event_id, payload, payload_hash, deliveries) VALUES ($1, $2::jsonb, 'h', 1)`, [
        row.id,
        deep,
      ]);
      const bearer = { authorization: `Bearer ${TEST_API_KEY}` };
      const one = await http().get(`/events/${row.id}`).set(bearer);
      expect(one.status).toBe(200);
      // Shown as its stored JSON text: too deep for the recursive code that would render it.
      expect(typeof one.body.payload).toBe('string');
      const [same] = await t.db.query(`SELECT $1::jsonb = $2::jsonb AS same`, [one.body.payload, deep]);
      expect(same).toEqual({ same: true });
      expect(typeof one.body.conflicts[0].payload).toBe('string');
      expect((await http().get('/events').set(bearer)).status).toBe(200);
      expect((await http().get(`/jobs/${id}`).set(bearer)).status).not.toBeGreaterThanOrEqual(500);
      const page = await http().get(`/admin/events/${row.id}`).set(bearer).set('accept', 'text/html');
      expect(page.status).toBe(200);
    });

    it('refuses an unsigned hostile body with 401 before parsing it', async () => {
      const answer = await http().post('/webhook').set('content-type', 'application/json').send('{"__proto__":'.repeat(10_000));
      expect(answer.status).toBe(401);
      expect(answer.body).toMatchObject({ statusCode: 401, message: 'Invalid webhook signature: missing signature header' });
    });
  });
});
