import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { Agent, request as httpRequest } from 'node:http';
import { WebhookEventParser } from '../src/webhook/webhook-event.parser.js';
import { ALL_TYPES, eventBody } from './support/events.js';
import { portOf, rawRequest } from './support/raw-http.js';
import { signedHeaders } from './support/signing.js';
import { startApp, TEST_API_KEY, TEST_SECRET, type TestApp } from './support/app.js';

/**
 * Property-based tests that throw thousands of generated requests at the running app (real Postgres and
 * Redis): random bytes, random JSON, mutated real events, hostile JSON, big bodies, random headers,
 * content types, methods and paths, malformed HTTP, each with a right, stale, wrong, missing or
 * repeated signature. Properties: never a 5xx, every error a JSON body without a stack trace, the
 * process still healthy afterwards, and no stored row unless its body was signed with the secret.
 * FUZZ_RUNS (batches of up to 16 concurrent requests) and FUZZ_SEED reproduce or lengthen a run.
 */

const RUNS = Number(process.env.FUZZ_RUNS ?? 400);
const SEED = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);
const STACK_FRAME = /\bat .*\.(ts|js):\d+/;

type Signing = 'valid' | 'stale' | 'future' | 'wrong-secret' | 'body-changed' | 'missing' | 'garbage' | 'repeated';

/** A request to send with Node's HTTP client (so its headers are well-formed, whatever they say). */
interface HttpCase {
  kind: 'http';
  label: string;
  method: string;
  path: string;
  headers: Record<string, string | string[]>;
  body: Buffer;
  signing?: Signing;
  /** The bytes the signature was made over, when it was made with the secret. */
  signedBody?: Buffer;
}

/** Bytes written straight to a socket: malformed HTTP. */
interface RawCase {
  kind: 'raw';
  label: string;
  data: Buffer;
}

type Case = HttpCase | RawCase;

interface Answer {
  status: number;
  body: string;
}

// ---------------------------------------------------------------- bodies

/** A small pool of project ids, so that generated events collide: duplicates, conflicts, stale then fresh. */
const projectIdArb = fc.nat(29).map((n) => `cfuzz${String(n).padStart(20, '0')}`);
const knownField = fc.constantFrom(
  'id',
  'name',
  'status',
  'type',
  'created_at',
  'credits_charged',
  'downloads',
  'error',
  'width',
  'fps',
  'image_count',
  'enabled',
);
const hostileKey = fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', '');

const realEventArb = fc
  .record({
    type: fc.constantFrom(...ALL_TYPES, 'video.canceled', 'audio.paused'),
    id: projectIdArb,
    overrides: fc.option(
      fc.dictionary(fc.oneof(knownField, hostileKey, fc.string({ maxLength: 12 })), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 4 }),
      {
        nil: undefined,
        freq: 2,
      },
    ),
  })
  .map(({ type, id, overrides }) => ({
    label: overrides ? 'mutated event' : 'real event',
    body: Buffer.from(eventBody(type as (typeof ALL_TYPES)[number], id, overrides ?? {})),
  }));

const hostileJsonArb = fc.oneof(
  fc.record({ depth: fc.integer({ min: 100, max: 30_000 }), id: projectIdArb }).map(({ depth, id }) => ({
    label: 'deep nesting',
    body: Buffer.from(`{"type":"video.completed","payload":{"id":"${id}","x":${'['.repeat(depth)}${']'.repeat(depth)}}}`),
  })),
  fc
    .record({
      id: projectIdArb,
      number: fc.constantFrom('1e400', '-1e400', '123456789012345678901234567890', '1e-400', '0.1e999999', '-0'),
    })
    .map(({ id, number }) => ({
      label: 'huge number',
      body: Buffer.from(`{"type":"video.completed","payload":{"id":"${id}","credits_charged":${number},"width":${number}}}`),
    })),
  fc.record({ id: projectIdArb, key: hostileKey }).map(({ id, key }) => ({
    label: 'prototype keys',
    body: Buffer.from(
      `{"${key}":{"polluted":true},"type":"image.completed","payload":{"id":"${id}","${key}":{"polluted":true},"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}}`,
    ),
  })),
  fc
    .record({ id: projectIdArb, text: fc.constantFrom('\\u0000', '\\ud800', '\\udfff\\ud800', '\u2028', '\\"\\\\') })
    .map(({ id, text }) => ({
      label: 'unstorable text',
      body: Buffer.from(`{"type":"audio.started","payload":{"id":"${id}","name":"a${text}b"}}`),
    })),
);

/** Numbers a double does not hold, or holds only rounded: huge, tiny, long, in any spelling JSON allows. */
const hugeNumberArb = fc.oneof(
  fc.constantFrom('1e400', '-1e400', ' 1E999 ', '1e-400', '-0.0e-99999', '4.9e-324', '1.7976931348623159e308', '12345678901234567890'),
  fc
    .record({
      sign: fc.constantFrom('', '-'),
      digits: fc.stringMatching(/^[1-9][0-9]{15,120}$/),
      exponent: fc.integer({ min: -500, max: 500 }),
    })
    .map(({ sign, digits, exponent }) => `${sign}${digits}${exponent === 0 ? '' : `e${exponent}`}`),
);

/** A body that is one JSON scalar, as Magic Hour never sends but anyone can sign by mistake. */
const topLevelScalarArb = fc
  .oneof(
    hugeNumberArb,
    fc.double().map((value) => JSON.stringify(value) ?? 'null'),
    fc.string({ maxLength: 40 }).map((value) => JSON.stringify(value)),
    fc.constantFrom('true', 'false', 'null', ' null ', '0', '-0'),
  )
  .map((text) => ({ label: 'top-level scalar', body: Buffer.from(text) }));

/** A real event with a huge number in a field it checks, or one it does not. */
const eventWithHugeNumberArb = fc
  .record({ id: projectIdArb, number: hugeNumberArb, field: fc.constantFrom('credits_charged', 'width', 'ticket', 'extra') })
  .map(({ id, number, field }) => ({
    label: 'event with a huge number',
    body: Buffer.from(`{"type":"video.completed","payload":{"id":"${id}","${field}":${number},"list":[1,${number}]}}`),
  }));

const bodyArb = fc.oneof(
  { weight: 8, arbitrary: realEventArb },
  { weight: 2, arbitrary: topLevelScalarArb },
  { weight: 2, arbitrary: eventWithHugeNumberArb },
  { weight: 3, arbitrary: hostileJsonArb },
  { weight: 2, arbitrary: fc.jsonValue().map((value) => ({ label: 'random JSON', body: Buffer.from(JSON.stringify(value) ?? 'null') })) },
  { weight: 2, arbitrary: fc.uint8Array({ maxLength: 2048 }).map((bytes) => ({ label: 'random bytes', body: Buffer.from(bytes) })) },
  {
    weight: 1,
    arbitrary: fc.string({ unit: 'binary', maxLength: 300 }).map((text) => ({ label: 'random text', body: Buffer.from(text) })),
  },
  {
    weight: 1,
    arbitrary: fc.integer({ min: 200_000, max: 400_000 }).map((size) => ({
      label: 'big body',
      body: Buffer.from(`{"type":"video.completed","payload":{"id":"cfuzzbig","name":"${'x'.repeat(size)}"}}`),
    })),
  },
);

// ---------------------------------------------------------------- webhook requests

const headerValue = fc.string({ unit: 'grapheme-ascii', maxLength: 80 });
const extraHeadersArb = fc.dictionary(fc.stringMatching(/^x-[a-z0-9-]{1,16}$/), headerValue, { maxKeys: 3 });
const contentTypeArb = fc.oneof(
  { weight: 12, arbitrary: fc.constant<string | null>('application/json') },
  {
    weight: 3,
    arbitrary: fc.constantFrom<string | null>(
      null,
      'text/plain',
      'application/json; charset=utf-16',
      'application/json; charset=UTF-8',
      'application/x-www-form-urlencoded',
      'application/merge-patch+json',
      'multipart/form-data; boundary=z',
    ),
  },
  { weight: 1, arbitrary: fc.stringMatching(/^[a-z]{1,8}\/[a-z0-9+.-]{1,12}(; ?[a-z]{1,7}=[a-z0-9-]{0,8})?$/) },
);
const signingArb = fc.oneof(
  { weight: 6, arbitrary: fc.constant<Signing>('valid') },
  { weight: 2, arbitrary: fc.constant<Signing>('stale') },
  { weight: 1, arbitrary: fc.constant<Signing>('future') },
  { weight: 2, arbitrary: fc.constant<Signing>('wrong-secret') },
  { weight: 2, arbitrary: fc.constant<Signing>('body-changed') },
  { weight: 1, arbitrary: fc.constantFrom<Signing>('missing', 'garbage', 'repeated') },
);
const routeArb = fc.oneof(
  { weight: 14, arbitrary: fc.constant({ method: 'POST', path: '/webhook' }) },
  {
    weight: 1,
    arbitrary: fc.record({
      method: fc.constantFrom('POST', 'PUT', 'GET', 'DELETE', 'PATCH'),
      path: fc.constantFrom('/webhook/', '/webhook?source=x', '/webhook//', '/WEBHOOK', '/webhook/extra', '/webhook?'),
    }),
  },
);

const webhookCaseArb: fc.Arbitrary<HttpCase> = fc
  .record({
    body: bodyArb,
    signing: signingArb,
    contentType: contentTypeArb,
    encoding: fc.oneof(
      { weight: 19, arbitrary: fc.constant(undefined) },
      { weight: 1, arbitrary: fc.constantFrom('gzip', 'br', 'identity') },
    ),
    extra: extraHeadersArb,
    route: routeArb,
    garbage: fc.record({
      signature: fc.oneof(fc.stringMatching(/^[0-9a-f]{64}$/), headerValue),
      timestamp: fc.oneof(headerValue, fc.integer().map(String)),
    }),
    flip: fc.nat(),
  })
  .map(({ body: { label, body }, signing, contentType, encoding, extra, route, garbage, flip }) => {
    const now = Math.floor(Date.now() / 1000);
    let sent = body;
    let signed: Record<string, string | string[]> = {};
    let signedBody: Buffer | undefined;
    switch (signing) {
      case 'valid':
        signed = signedHeaders(body, TEST_SECRET);
        signedBody = body;
        break;
      case 'stale':
        signed = signedHeaders(body, TEST_SECRET, now - 301 - (flip % 100_000));
        signedBody = body;
        break;
      case 'future':
        signed = signedHeaders(body, TEST_SECRET, now + 301 + (flip % 100_000));
        signedBody = body;
        break;
      case 'wrong-secret':
        signed = signedHeaders(body, 'whsec_not_the_secret', now - (flip % 2) * 1000);
        break;
      case 'body-changed': {
        signed = signedHeaders(body, TEST_SECRET);
        sent = Buffer.from(body);
        if (sent.length === 0) sent = Buffer.from(' ');
        else sent[flip % sent.length] ^= 1 << (flip % 8);
        break;
      }
      case 'missing':
        signed = flip % 2 === 0 ? {} : { 'magic-hour-event-timestamp': String(now) };
        break;
      case 'garbage':
        signed = { 'magic-hour-event-signature': garbage.signature, 'magic-hour-event-timestamp': garbage.timestamp };
        break;
      case 'repeated': {
        const right = signedHeaders(body, TEST_SECRET);
        const name = flip % 2 === 0 ? 'magic-hour-event-signature' : 'magic-hour-event-timestamp';
        signed = { ...right, [name]: [right[name], flip % 3 === 0 ? right[name] : '0'] };
        break;
      }
    }
    const headers: Record<string, string | string[]> = { ...extra, ...signed };
    delete headers['content-type'];
    if (contentType !== null) headers['content-type'] = contentType;
    if (encoding !== undefined) headers['content-encoding'] = encoding;
    return { kind: 'http' as const, label, method: route.method, path: route.path, headers, body: sent, signing, signedBody };
  });

/** Real requests mangled at the byte level, signed with a wrong secret: a flip can never make them authentic. */
const rawCaseArb: fc.Arbitrary<RawCase> = fc.oneof(
  fc.record({ id: projectIdArb, flips: fc.array(fc.tuple(fc.nat(), fc.nat(255)), { minLength: 1, maxLength: 6 }) }).map(({ id, flips }) => {
    const body = eventBody('video.completed', id);
    const headers = signedHeaders(body, 'whsec_not_the_secret');
    const data = Buffer.from(
      `POST /webhook HTTP/1.1\r\nHost: x\r\n${Object.entries(headers)
        .map(([name, value]) => `${name}: ${value}\r\n`)
        .join('')}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
    for (const [at, value] of flips) data[at % data.length] = value;
    return { kind: 'raw' as const, label: 'mangled HTTP', data };
  }),
  fc
    .uint8Array({ minLength: 1, maxLength: 512 })
    .map((bytes) => ({ kind: 'raw' as const, label: 'random bytes on the socket', data: Buffer.from(bytes) })),
  fc
    .record({
      requestLine: fc.constantFrom(
        'GET /health HTTP/1.1',
        'POST /webhook HTTP/1.1',
        'CONNECT x:443 HTTP/1.1',
        'GET /jobs HTTP/1.0',
        'OPTIONS * HTTP/1.1',
        'GET http://x/health HTTP/1.1',
      ),
      headers: fc.subarray([
        'Host: x',
        'Expect: 100-continue',
        'Expect: teapot',
        'Connection: Upgrade',
        'Upgrade: websocket',
        'Transfer-Encoding: chunked',
        'Content-Length: 5',
        'Content-Type: application/json',
      ]),
      body: fc.constantFrom('', '{}', '5\r\nhello\r\n0\r\n\r\n', 'hello'),
    })
    .map(({ requestLine, headers, body }) => ({
      kind: 'raw' as const,
      label: 'odd HTTP',
      data: Buffer.from(`${requestLine}\r\n${headers.map((header) => `${header}\r\n`).join('')}\r\n${body}`),
    })),
  fc
    .record({ name: fc.constantFrom('X-Big', 'Cookie', 'Authorization'), size: fc.integer({ min: 17_000, max: 70_000 }) })
    .map(({ name, size }) => ({
      kind: 'raw' as const,
      label: 'oversized header',
      data: Buffer.from(`GET /jobs HTTP/1.1\r\nHost: x\r\n${name}: ${'a'.repeat(size)}\r\n\r\n`),
    })),
);

const caseArb: fc.Arbitrary<Case> = fc.oneof({ weight: 19, arbitrary: webhookCaseArb }, { weight: 1, arbitrary: rawCaseArb });

// ---------------------------------------------------------------- REST requests

const segmentArb = fc.oneof(
  fc.uuid(),
  fc.stringMatching(/^[A-Za-z0-9_.-]{1,60}$/),
  fc.string({ unit: 'grapheme', maxLength: 30 }).map(encodeURIComponent),
  fc.constantFrom('%', '%E0%A4%A', '%00', '..', '%2e%2e', '%ZZ', '%2F', 'a'.repeat(3000), '%F0%9F%98%80', '%C0%AF'),
);
const queryKeyArb = fc.oneof(
  fc.constantFrom(
    'status',
    'media',
    'limit',
    'cursor',
    'type',
    'jobId',
    'handler',
    'replayed',
    'next',
    '__proto__',
    'constructor[prototype][x]',
    'limit[]',
    'status[0]',
    'toString',
  ),
  fc.stringMatching(/^[a-z_[\]]{1,12}$/),
);
const queryValueArb = fc.oneof(
  fc.constantFrom('processed', 'failed', 'stale', 'quarantined', 'ignored', 'video', 'complete', '0', '-1', '101', '1e3', 'NaN', '20', ''),
  // Sent raw, a NUL or a control character once decoded: Postgres refuses a NUL in text.
  fc.constantFrom('a%00b', '%00', 'video.%01'),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.jsonValue({ maxDepth: 2 }).map((value) => Buffer.from(JSON.stringify(value) ?? '').toString('base64url')),
);
const restCaseArb = fc
  .record({
    method: fc.constantFrom('GET', 'GET', 'GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS'),
    path: fc.oneof(
      fc.constantFrom('/jobs', '/events', '/events/replay', '/health', '/', '/jobs/', '/events//replay'),
      segmentArb.map((segment) => `/jobs/${segment}`),
      segmentArb.map((segment) => `/events/${segment}`),
      segmentArb.map((segment) => `/events/${segment}/replay`),
      // The operator console's routes (an API client gets JSON errors there too) and Bull Board's API.
      fc.constantFrom(
        '/admin',
        '/admin/',
        '/admin/events',
        '/admin/login',
        '/admin/logout',
        '/admin/queues/api/queues',
        '/admin/assets/admin.css',
      ),
      segmentArb.map((segment) => `/admin/jobs/${segment}`),
      segmentArb.map((segment) => `/admin/events/${segment}`),
      segmentArb.map((segment) => `/admin/events/${segment}/replay`),
    ),
    query: fc.array(fc.tuple(queryKeyArb, queryValueArb, fc.boolean()), { maxLength: 5 }),
    auth: fc.oneof(
      fc.constantFrom<string | undefined>(
        undefined,
        `Bearer ${TEST_API_KEY}`,
        `Bearer ${TEST_API_KEY}`,
        'Bearer wrong',
        `Basic ${TEST_API_KEY}`,
        'Bearer',
        `bearer  ${TEST_API_KEY}  `,
      ),
      headerValue.map((value) => `Bearer ${value}`),
    ),
    body: fc.option(
      fc.oneof(
        fc.jsonValue().map((value) => ({ type: 'application/json', text: JSON.stringify(value) ?? '' })),
        // The console's forms: a replay or login form, right or mangled.
        fc
          .array(fc.tuple(fc.constantFrom('csrf', 'key', 'next', '__proto__', 'csrf[]'), fc.string({ unit: 'grapheme', maxLength: 30 })), {
            maxLength: 3,
          })
          .map((fields) => ({ type: 'application/x-www-form-urlencoded', text: new URLSearchParams(fields).toString() })),
      ),
      { nil: undefined },
    ),
  })
  .map(({ method, path, query, auth, body }) => {
    const search = query
      .map(([key, value, raw]) =>
        raw ? `${key}=${value.replace(/[^\x21-\x7e]/g, '')}` : `${encodeURIComponent(key)}=${encodeURIComponent(value)}`,
      )
      .join('&');
    const headers: Record<string, string> = {};
    if (auth !== undefined) headers.authorization = auth;
    if (body !== undefined) headers['content-type'] = body.type;
    return {
      kind: 'http' as const,
      label: 'REST',
      method,
      path: search === '' ? path : `${path}?${search}`,
      headers,
      body: Buffer.from(body?.text ?? ''),
    } satisfies HttpCase;
  });

// ---------------------------------------------------------------- the run

describe('Fuzzing the running app with generated requests (fast-check)', () => {
  let t: TestApp;
  let port: number;
  // Idle connections are dropped before the server's keep-alive timeout (5 s) could close one just as
  // it is reused, which would fail a request for a reason that is not the server's answer.
  const agent = new Agent({ keepAlive: true, maxSockets: 16, timeout: 3000 });
  const statuses = new Map<string, number>();
  const kinds = new Map<string, number>();
  const signings = new Map<string, number>();
  const count = (map: Map<string, number>, key: string) => map.set(key, (map.get(key) ?? 0) + 1);
  let webhookRequests = 0;
  let storedRows = 0;
  let storedConflicts = 0;
  let restRequests = 0;
  /** Bodies sent with a right signature (fresh or not): the only ones that may be stored. */
  const signedBodies: Buffer[] = [];
  /** Answers that must have stored their body: 200 to a fresh right signature, 401 to a stale right one. */
  const mustBeStored: Buffer[] = [];

  const send = (c: HttpCase): Promise<Answer> =>
    new Promise((resolve, reject) => {
      const outgoing = httpRequest(
        { host: '127.0.0.1', port, method: c.method, path: c.path, headers: { ...c.headers, 'content-length': c.body.length }, agent },
        (incoming) => {
          const chunks: Buffer[] = [];
          incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
          incoming.on('end', () => resolve({ status: incoming.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
          incoming.on('error', reject);
        },
      );
      outgoing.on('error', reject);
      outgoing.end(c.body);
    });

  /** Checks one answer; throws (so fast-check shrinks to it) on a 5xx or a bad error body. */
  function check(c: Case, answer: Answer | null, method: string): void {
    if (answer === null) return; // the server closed a socket it could not read: allowed for raw bytes
    count(statuses, String(answer.status));
    if (answer.status >= 500) throw new Error(`${c.label}: ${answer.status} ${answer.body.slice(0, 300)}`);
    if (STACK_FRAME.test(answer.body)) throw new Error(`${c.label}: a stack trace in ${answer.body.slice(0, 300)}`);
    if (answer.status >= 400 && method !== 'HEAD') {
      let parsed: unknown;
      try {
        parsed = JSON.parse(answer.body);
      } catch {
        throw new Error(`${c.label}: ${answer.status} without a JSON body: ${answer.body.slice(0, 200)}`);
      }
      // Bull Board's API answers its own error shape (`{"error":{"key":...}}`), which its page reads.
      const boardError =
        c.kind === 'http' &&
        c.path.startsWith('/admin/queues/') &&
        typeof (parsed as { error?: { key?: unknown } }).error?.key === 'string';
      if ((parsed as { statusCode?: unknown }).statusCode !== answer.status && !boardError) {
        throw new Error(`${c.label}: ${answer.status} with body ${answer.body.slice(0, 200)}`);
      }
    }
  }

  async function run(c: Case): Promise<void> {
    count(kinds, c.label);
    if (c.kind === 'http' && c.signing) count(signings, c.signing);
    if (c.kind === 'raw') {
      webhookRequests++;
      const answer = await rawRequest(port, c.data, 30_000).catch(() => null);
      check(c, answer, 'raw');
      return;
    }
    if (c.label === 'REST') restRequests++;
    else webhookRequests++;
    if (c.signedBody) signedBodies.push(c.signedBody);
    const answer = await send(c);
    check(c, answer, c.method);
    if (c.signedBody && c.method === 'POST' && c.path === '/webhook') {
      if ((c.signing === 'valid' && answer.status === 200) || (c.signing !== 'valid' && answer.status === 401))
        mustBeStored.push(c.signedBody);
    }
  }

  beforeAll(async () => {
    t = await startApp({ API_RATE_LIMIT: '1000000' });
    port = portOf(t.app.getHttpServer());
  });
  afterAll(async () => {
    agent.destroy();
    await t?.close();
    const sorted = (map: Map<string, number>) => Object.fromEntries([...map].sort((a, b) => b[1] - a[1]));
    console.log(
      `fuzz: ${webhookRequests} webhook and ${restRequests} REST requests; ${storedRows} events and ${storedConflicts} conflicts stored\n` +
        `kinds: ${JSON.stringify(sorted(kinds))}\nsignatures: ${JSON.stringify(sorted(signings))}\nstatuses: ${JSON.stringify(sorted(statuses))}`,
    );
  });

  it('never answers POST /webhook with a 5xx, and stores nothing without a right signature', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(caseArb, { minLength: 1, maxLength: 16 }), async (cases) => {
        await Promise.all(cases.map(run));
      }),
      { numRuns: RUNS, seed: SEED },
    );

    // Still alive and well.
    const health = await send({ kind: 'http', label: 'health', method: 'GET', path: '/health', headers: {}, body: Buffer.alloc(0) });
    expect(health.status).toBe(200);

    // Every stored row (and every kept conflict) comes from a body signed with the secret: its key and
    // its stored JSON are those of such a body. Compared in Postgres, as jsonb, like intake compares.
    const parser = new WebhookEventParser();
    const allowed: string[] = [];
    for (const body of signedBodies) {
      if (body.length > t.config.webhookBodyLimitBytes) continue; // refused (413) before anything else
      const parsed = await parser.parse(body);
      allowed.push(`{"k":${JSON.stringify(parsed.eventKey)},"b":${parsed.payloadJson}}`);
    }
    const ALLOWED = `WITH allowed AS MATERIALIZED (SELECT k, b FROM jsonb_to_recordset($1::jsonb) AS allowed(k text, b jsonb))`;
    const unsigned = await t.db.query(
      `${ALLOWED} SELECT event_key, status FROM webhook_events AS event
        WHERE NOT EXISTS (SELECT 1 FROM allowed WHERE allowed.k = event.event_key AND allowed.b = event.payload)`,
      [`[${allowed.join(',')}]`],
    );
    expect(unsigned).toEqual([]);
    const unsignedConflicts = await t.db.query(
      `${ALLOWED} SELECT event.event_key FROM webhook_event_conflicts AS conflict JOIN webhook_events AS event ON event.id = conflict.event_id
        WHERE NOT EXISTS (SELECT 1 FROM allowed WHERE allowed.k = event.event_key AND allowed.b = conflict.payload)`,
      [`[${allowed.join(',')}]`],
    );
    expect(unsignedConflicts).toEqual([]);
    const rows: Array<{ event_key: string }> = await t.db.query('SELECT event_key FROM webhook_events');
    storedRows = rows.length;
    storedConflicts = (await t.db.query('SELECT count(*)::int AS n FROM webhook_event_conflicts'))[0].n;

    // And nothing answered as stored (or recorded as stale) is missing.
    const stored = new Set(rows.map((row) => row.event_key));
    const missing = [];
    for (const body of mustBeStored) {
      const key = (await parser.parse(body)).eventKey;
      if (!stored.has(key)) missing.push(key);
    }
    expect(missing).toEqual([]);
    expect(rows.length).toBeGreaterThan(0);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  }, 300_000);

  it('never answers the REST API with a 5xx, whatever the path, query, method or key', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(restCaseArb, { minLength: 1, maxLength: 12 }), async (cases) => {
        await Promise.all(cases.map(run));
      }),
      { numRuns: Math.ceil(RUNS / 2), seed: SEED },
    );
    expect((await send({ kind: 'http', label: 'health', method: 'GET', path: '/health', headers: {}, body: Buffer.alloc(0) })).status).toBe(
      200,
    );
  }, 300_000);
});
