import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { CliIo } from '../src/cli/cli-options.js';
import { main } from '../src/cli/main.js';
import type { SimulationSummary } from '../src/cli/simulate.command.js';
import { ALL_TYPES, projectId } from '../src/simulator/events.js';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER, verifySignature } from '../src/magic-hour/webhook-signature.js';
import { eventually, freePort, startApp, TEST_API_KEY, TEST_SECRET, type TestApp } from './support/app.js';

/** Runs `mh` in-process, as the bin does, with its own environment and stdin; captures what it prints. */
async function mh(argv: string[], options: { env?: Record<string, string>; stdin?: string | Buffer } = {}) {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    stdout: { write: (chunk: string) => (stdout += chunk) },
    stderr: { write: (chunk: string) => (stderr += chunk) },
    stdin: Readable.from([Buffer.from(options.stdin ?? '')]),
    env: options.env ?? {},
  };
  const code = await main(argv, io);
  return { code, stdout, stderr };
}

/** `mh simulate ... --json`, parsed. */
async function simulate(argv: string[]) {
  const result = await mh(['simulate', ...argv, '--json']);
  return { ...result, summary: JSON.parse(result.stdout) as SimulationSummary };
}

/** A webhook endpoint of our own, answering with `answer`; records every request it got. */
async function endpoint(answer: (req: IncomingMessage, body: Buffer, res: ServerResponse) => void) {
  const requests: Array<{ headers: IncomingMessage['headers']; body: Buffer }> = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      requests.push({ headers: req.headers, body });
      answer(req, body, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhook`;
  return { url, requests, server, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** Whether the service's verifier accepts a request's signature for `secret`. */
const signedWith = (request: { headers: IncomingMessage['headers']; body: Buffer }, secret: string) =>
  verifySignature({
    secrets: [secret],
    toleranceSeconds: 300,
    signature: request.headers[SIGNATURE_HEADER] as string | undefined,
    timestamp: request.headers[TIMESTAMP_HEADER] as string | undefined,
    body: request.body,
    nowSeconds: Math.floor(Date.now() / 1000),
  }) === null;

describe('mh against the real service (Postgres and Redis)', () => {
  let t: TestApp;
  let base: string;
  let webhookUrl: string;
  const common = () => ['--url', webhookUrl, '--secret', TEST_SECRET, '--api-url', base, '--api-key', TEST_API_KEY];
  const count = async (sql: string, params: unknown[] = []) => Number((await t.db.query(sql, params))[0].n);

  beforeAll(async () => {
    t = await startApp();
    base = `http://127.0.0.1:${(t.app.getHttpServer().address() as AddressInfo).port}`;
    webhookUrl = `${base}/webhook`;
  });
  afterAll(async () => {
    await t?.close();
  });

  it('mh send delivers each of the nine types with a payload the service stores and applies', async () => {
    const sent: Array<{ type: string; id: string }> = [];
    for (const type of ALL_TYPES) {
      const id = projectId();
      const { code, stdout } = await mh(['send', type, '--id', id, '--url', webhookUrl, '--secret', TEST_SECRET]);
      expect(code).toBe(0);
      expect(stdout).toBe(`${type} ${id} -> ${webhookUrl}\n200 {"received":true,"duplicate":false}\n`);
      sent.push({ type, id });
    }
    const expected = { started: 'rendering', completed: 'complete', errored: 'error' } as Record<string, string>;
    for (const { type, id } of sent) {
      const job = await eventually(async () => {
        const rows = await t.db.query(
          `SELECT j.status, j.media, e.status AS event_status, e.payload FROM jobs j JOIN webhook_events e ON e.project_id = j.id WHERE j.id = $1`,
          [id],
        );
        return rows[0]?.event_status === 'processed' ? rows[0] : null;
      });
      expect(job).toMatchObject({ status: expected[type.split('.')[1]], media: type.split('.')[0] });
      expect(job.payload).toMatchObject({ id, created_at: expect.any(String), enabled: true });
    }
  });

  it('mh send --json with another secret is refused 401 and stores nothing; a stale --timestamp is refused 401 and only recorded as stale', async () => {
    const id = projectId();
    const wrong = await mh(['send', 'video.completed', '--id', id, '--url', webhookUrl, '--secret', 'whsec_wrong', '--json']);
    expect(wrong.code).toBe(1);
    expect(JSON.parse(wrong.stdout)).toMatchObject({ type: 'video.completed', id, ok: false, status: 401 });

    const stale = Math.floor(Date.now() / 1000) - 3600;
    const old = await mh(['send', 'video.completed', '--id', id, '--url', webhookUrl, '--timestamp', String(stale)], {
      env: { MH_WEBHOOK_SECRET: TEST_SECRET },
    });
    expect(old.code).toBe(1);
    expect(old.stdout).toContain('401');
    expect(old.stdout).toContain('tolerance');
    // Authentic but outside the tolerance: kept for an operator as `stale`, never processed.
    expect(await count(`SELECT count(*) AS n FROM webhook_events WHERE project_id = $1 AND status = 'stale'`, [id])).toBe(1);
    expect(await count('SELECT count(*) AS n FROM webhook_events WHERE project_id = $1', [id])).toBe(1);
    expect(await count('SELECT count(*) AS n FROM jobs WHERE id = $1', [id])).toBe(0);
  });

  it('mh sign prints headers for the body on stdin that the service accepts as sent by curl', async () => {
    const id = projectId();
    const body = `{"type":"audio.completed","payload":{"id":"${id}","name":"café ☕"}}\n`;
    const { code, stdout } = await mh(['sign'], { stdin: body, env: { MAGIC_HOUR_WEBHOOK_SECRET: `${TEST_SECRET},other` } });
    expect(code).toBe(0);
    const headers = Object.fromEntries(
      stdout
        .trim()
        .split('\n')
        .map((line) => line.split(': ') as [string, string]),
    );
    expect(Object.keys(headers)).toEqual(['content-type', TIMESTAMP_HEADER, SIGNATURE_HEADER]);

    const answer = await fetch(webhookUrl, { method: 'POST', headers, body });
    expect(answer.status).toBe(200);
    expect(await answer.json()).toEqual({ received: true, duplicate: false });
    const tampered = await fetch(webhookUrl, { method: 'POST', headers, body: body.trim() });
    expect(tampered.status).toBe(401);
    await eventually(async () => (await count(`SELECT count(*) AS n FROM jobs WHERE id = $1 AND status = 'complete'`, [id])) === 1);
  });

  it('mh simulate with failures, duplicates, reordering and missing started events ends with every job right', async () => {
    const jobsBefore = await count('SELECT count(*) AS n FROM jobs');
    const eventsBefore = await count('SELECT count(*) AS n FROM webhook_events');
    const errorsBefore = await count(`SELECT count(*) AS n FROM jobs WHERE status = 'error'`);

    const { code, summary, stderr } = await simulate([
      ...common(),
      ...['--jobs', '30', '--concurrency', '8', '--failure-rate', '0.3', '--duplicates', '0.3'],
      ...['--out-of-order', '0.3', '--skip-started', '0.2', '--seed', '20261127'],
    ]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(summary).toMatchObject({ ok: true, jobs: 30, media: { video: 10, image: 10, audio: 10 }, givenUp: 0 });
    // The plan used every fault, and its numbers add up.
    const { plan } = summary;
    expect(plan.complete + plan.error).toBe(30);
    for (const n of [plan.error, plan.duplicated, plan.outOfOrder, plan.skippedStarted]) expect(n).toBeGreaterThan(0);
    expect(plan.events).toBe(60 - plan.skippedStarted);
    expect(summary.deliveries).toBe(plan.events + plan.duplicated);
    expect(summary.delivered).toBe(summary.deliveries);
    expect(summary.sent).toBe(summary.deliveries + summary.retried);
    expect(summary.sent).toBeGreaterThanOrEqual(summary.delivered);
    // Each duplicated event was recognised as one by the service (more only if a retry repeated a stored event).
    expect(summary.answeredDuplicate).toBeGreaterThanOrEqual(plan.duplicated);
    expect(summary.answeredDuplicate).toBeLessThanOrEqual(plan.duplicated + summary.retried);
    expect(summary.check).toEqual({ checked: 30, ok: 30, mismatched: [], fromApi: 0 });
    // And the service stored exactly what was planned: one row per distinct event, one job per job.
    expect((await count('SELECT count(*) AS n FROM jobs')) - jobsBefore).toBe(30);
    expect((await count('SELECT count(*) AS n FROM webhook_events')) - eventsBefore).toBe(plan.events);
    expect((await count(`SELECT count(*) AS n FROM jobs WHERE status = 'error'`)) - errorsBefore).toBe(plan.error);
  }, 180_000);

  it('mh simulate prints a readable summary and exits 1 when jobs do not reach their status', async () => {
    // An endpoint that answers 200 to everything but passes only "started" events on to the service:
    // the kind of handler that acknowledges and then loses the event.
    const lossy = await endpoint((req, body, res) => {
      if (!JSON.parse(body.toString()).type.endsWith('.started')) {
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"received":true}');
        return;
      }
      const forward = httpRequest(webhookUrl, { method: 'POST', headers: req.headers }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      forward.end(body);
    });
    try {
      const { code, stdout } = await mh([
        'simulate',
        ...common(),
        ...['--url', lossy.url, '--jobs', '3', '--failure-rate', '0', '--check-timeout-ms', '1500'],
      ]);
      expect(code).toBe(1);
      expect(stdout).toContain('  delivered  6 of 6');
      expect(stdout).toContain('  check      0 of 3 jobs reached their final status');
      expect(stdout.match(/: expected complete, got rendering/g)).toHaveLength(3);
      expect(stdout.trim().endsWith('FAILED')).toBe(true);
    } finally {
      await lossy.close();
    }
  }, 60_000);

  it('mh simulate says so and exits 1 when the API refuses the key', async () => {
    const { code, summary } = await simulate([...common(), '--api-key', 'wrong-key', '--jobs', '2']);
    expect(code).toBe(1);
    expect(summary.delivered).toBe(4);
    expect(summary.check?.error).toMatch(/answered 401.*--api-key/);
  }, 60_000);
});

describe('mh simulate retries (against endpoints of its own)', () => {
  const quick = ['--no-check', '--backoff-base-ms', '20', '--backoff-cap-ms', '40', '--secret', 'whsec_retry'];

  it('retries non-2xx answers with the same body, signed afresh, until delivered', async () => {
    let answered = 0;
    const flaky = await endpoint((_req, _body, res) => {
      answered++;
      res.writeHead(answered <= 2 ? 500 : 200).end();
    });
    try {
      const { code, summary } = await simulate([...quick, '--url', flaky.url, '--jobs', '1', '--concurrency', '1', '--failure-rate', '0']);
      expect(code).toBe(0);
      expect(summary).toMatchObject({ deliveries: 2, sent: 4, retried: 2, delivered: 2, givenUp: 0, answers: { 500: 2, 200: 2 } });
      expect(summary.check).toBeNull();
      expect(flaky.requests).toHaveLength(4);
      for (const request of flaky.requests) expect(signedWith(request, 'whsec_retry')).toBe(true);
      // Two distinct events, each sent twice byte for byte.
      const bodies = flaky.requests.map((request) => request.body.toString());
      expect(new Set(bodies).size).toBe(2);
      expect(bodies.map((body) => JSON.parse(body).type).sort()).toEqual([
        'video.completed',
        'video.completed',
        'video.started',
        'video.started',
      ]);
    } finally {
      await flaky.close();
    }
  });

  it('gives up after --max-retries and exits 1', async () => {
    const down = await endpoint((_req, _body, res) => res.writeHead(503).end('{"error":"down"}'));
    try {
      const { code, summary, stdout } = await simulate([...quick, '--url', down.url, '--jobs', '2', '--max-retries', '2']);
      expect(code).toBe(1);
      expect(summary).toMatchObject({ ok: false, deliveries: 4, sent: 12, retried: 8, delivered: 0, givenUp: 4, answers: { 503: 12 } });
      expect(down.requests).toHaveLength(12);
      expect(stdout).toContain('"givenUp": 4');
    } finally {
      await down.close();
    }
  });

  it('counts a refused connection and a missing answer as failed attempts', async () => {
    const refused = await simulate([
      ...quick,
      '--url',
      `http://127.0.0.1:${await freePort()}/webhook`,
      '--jobs',
      '1',
      '--max-retries',
      '1',
    ]);
    expect(refused.code).toBe(1);
    expect(refused.summary).toMatchObject({ sent: 4, givenUp: 2, answers: { ECONNREFUSED: 4 } });

    const silent = await endpoint(() => undefined);
    try {
      const slow = await simulate([
        ...quick,
        '--url',
        silent.url,
        '--jobs',
        '1',
        '--skip-started',
        '1',
        '--max-retries',
        '0',
        '--timeout-ms',
        '300',
      ]);
      expect(slow.code).toBe(1);
      expect(slow.summary).toMatchObject({ sent: 1, givenUp: 1, answers: { 'no answer within 300 ms': 1 } });
    } finally {
      silent.server.closeAllConnections();
      await silent.close();
    }
  });
});

describe('bin/mh.js (a child process)', () => {
  const root = process.cwd();
  let dir: string;
  const BODY = '{"type":"video.started","payload":{"id":"abc"}}';

  // The launcher runs the compiled CLI at dist/src/cli/mh.js beside it. Compiling only the CLI into a
  // directory of its own keeps this test off the repository's dist/.
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'mh-bin-'));
    mkdirSync(join(dir, 'bin'));
    copyFileSync(join(root, 'bin/mh.js'), join(dir, 'bin/mh.js'));
    writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        extends: join(root, 'tsconfig.build.json'),
        compilerOptions: { outDir: join(dir, 'dist'), rootDir: root, sourceMap: false, typeRoots: [join(root, 'node_modules/@types')] },
        files: [join(root, 'src/cli/mh.ts')],
        include: [],
      }),
    );
    execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(dir, 'tsconfig.json')]);
  }, 120_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const run = (args: string[], input = '', env: Record<string, string> = {}) =>
    spawnSync(process.execPath, [join(dir, 'bin/mh.js'), ...args], {
      input,
      env: { PATH: process.env.PATH ?? '', ...env },
      encoding: 'utf8',
    });

  it('signs stdin with the secret from MH_WEBHOOK_SECRET (openssl known answer)', () => {
    const result = run(['sign', '--timestamp', '1700000000'], BODY, { MH_WEBHOOK_SECRET: 'whsec_test' });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toBe(
      'content-type: application/json\nmagic-hour-event-timestamp: 1700000000\n' +
        'magic-hour-event-signature: 60536b7dd8581a3a49100f926ea27478df5e43eb621e6ed50ee55f758b7efc64\n',
    );
  });

  it('prints --help with exit code 0 and refuses bad usage with exit code 2', () => {
    const help = run(['--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('Usage: mh <command>');
    const bad = run(['simulate', '--jobs', '0']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('--jobs must be a whole number from 1');
  });
});
