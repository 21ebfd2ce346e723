import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import request from 'supertest';
import { createApp, logStartupFailure } from '../src/app.setup.js';
import { buildConfig, loadConfig } from '../src/config/app.config.js';
import { validateEnv } from '../src/config/env.validation.js';
import { eventBody, projectId } from './support/events.js';
import { portOf, rawRequest } from './support/raw-http.js';
import { signedHeaders } from './support/signing.js';
import { freePort, POSTGRES_URL, REDIS_URL, startApp, uniqueName, type TestApp } from './support/app.js';

// Distinctive values, so that any of them turning up in the output is unmistakable.
const WEBHOOK_SECRET = 'whsec_LOGCHECK_secret_7f3a91';
const ROTATED_SECRET = 'whsec_LOGCHECK_rotated_5e2c04';
const API_KEY = 'apikey_LOGCHECK_valid_91bd27';
const OTHER_API_KEY = 'apikey_LOGCHECK_other_0c6e58';
const WRONG_API_KEY = 'apikey_LOGCHECK_wrong_3a8f16';
const DATABASE_PASSWORD = 'dbpass_LOGCHECK_44e1b7';

describe('Keys and secrets never reach the logs', () => {
  let t: TestApp;
  const output: string[] = [];
  /** Signature values sent during the run (right and wrong), none of which may be logged. */
  const signatures: string[] = [];
  const restore: Array<() => void> = [];

  beforeAll(async () => {
    // Every level on, and everything the process prints kept (Nest's logger writes to stdout and
    // stderr; TypeORM and others use the console).
    Logger.overrideLogger(['log', 'error', 'warn', 'debug', 'verbose', 'fatal']);
    for (const stream of [process.stdout, process.stderr]) {
      const spy = jest.spyOn(stream, 'write').mockImplementation((chunk: unknown) => {
        output.push(Buffer.isBuffer(chunk) ? chunk.toString('utf8') : String(chunk));
        return true;
      });
      restore.push(() => spy.mockRestore());
    }
    for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) {
      const spy = jest.spyOn(console, method).mockImplementation((...args: unknown[]) => {
        output.push(args.map(String).join(' '));
      });
      restore.push(() => spy.mockRestore());
    }
    t = await startApp({
      MAGIC_HOUR_WEBHOOK_SECRET: `${WEBHOOK_SECRET},${ROTATED_SECRET}`,
      API_KEYS: `${API_KEY},${OTHER_API_KEY}`,
      LOG_LEVEL: 'debug',
      // Trust authentication on the test Postgres ignores the password, so the app runs with it.
      DATABASE_URL: `postgres://postgres:${DATABASE_PASSWORD}@127.0.0.1:5432/${uniqueName('mh_test')}`,
    });
  });
  afterAll(async () => {
    await t?.close();
    for (const undo of restore) undo();
    Logger.overrideLogger(['error']);
  });

  it('logs failures of authentication, signatures and configuration without a key, secret or signature', async () => {
    const http = () => request(t.app.getHttpServer());
    const port = portOf(t.app.getHttpServer());

    // API keys: missing, wrong, malformed, right.
    expect((await http().get('/jobs')).status).toBe(401);
    expect((await http().get('/jobs').set('authorization', `Bearer ${WRONG_API_KEY}`)).status).toBe(401);
    expect((await http().get('/events').set('authorization', `Basic ${API_KEY}`)).status).toBe(401);
    expect((await http().get('/jobs').set('authorization', `Bearer ${API_KEY}`)).status).toBe(200);
    expect((await http().get('/events?status=nope').set('authorization', `Bearer ${OTHER_API_KEY}`)).status).toBe(400);

    // Webhooks: right, wrong secret, stale, changed body, repeated header, and a signed event that is quarantined.
    const id = projectId();
    const body = eventBody('video.completed', id);
    const right = signedHeaders(body, WEBHOOK_SECRET);
    const wrong = signedHeaders(body, 'whsec_someone_else');
    const stale = signedHeaders(body, ROTATED_SECRET, Math.floor(Date.now() / 1000) - 3600);
    signatures.push(right['magic-hour-event-signature'], wrong['magic-hour-event-signature'], stale['magic-hour-event-signature']);
    expect((await http().post('/webhook').set(wrong).send(body)).status).toBe(401);
    expect((await http().post('/webhook').set(stale).send(body)).status).toBe(401);
    expect((await http().post('/webhook').set(right).send(`${body} `)).status).toBe(401);
    expect((await http().post('/webhook').set(right).send(body)).status).toBe(200);
    const garbage = '{"type":"video.completed","payload":{}}';
    const garbageHeaders = signedHeaders(garbage, WEBHOOK_SECRET);
    signatures.push(garbageHeaders['magic-hour-event-signature']);
    expect((await http().post('/webhook').set(garbageHeaders).send(garbage)).body).toMatchObject({ quarantined: true });
    const raw =
      `POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n` +
      `magic-hour-event-timestamp: ${right['magic-hour-event-timestamp']}\r\n` +
      `magic-hour-event-signature: ${right['magic-hour-event-signature']}\r\nmagic-hour-event-signature: ${right['magic-hour-event-signature']}\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
    expect((await rawRequest(port, raw))?.status).toBe(401);

    // A malformed request carrying a key, which Node's parser refuses before any handler.
    expect((await rawRequest(port, `GET /jobs HTTP/1.1\r\nAuthorization: Bearer ${API_KEY}\r\nBad Header: x\r\n\r\n`))?.status).toBe(400);

    // Configuration refused at start: invalid values next to the secrets, and production without keys.
    const badEnvironment = {
      MAGIC_HOUR_WEBHOOK_SECRET: WEBHOOK_SECRET,
      API_KEYS: API_KEY,
      DATABASE_URL: `mysql://root:${DATABASE_PASSWORD}@db/hooks`,
      REDIS_URL: `http://:${DATABASE_PASSWORD}@cache`,
      PORT: API_KEY,
      WEBHOOK_TOLERANCE_SECONDS: WEBHOOK_SECRET,
    };
    expect(() => loadConfig(badEnvironment)).toThrow();
    try {
      loadConfig(badEnvironment);
    } catch (error) {
      logStartupFailure(error);
    }
    try {
      loadConfig({ NODE_ENV: 'production', MAGIC_HOUR_WEBHOOK_SECRET: WEBHOOK_SECRET });
    } catch (error) {
      logStartupFailure(error);
    }
    // And a database that cannot be reached, named with its password.
    const unreachable = buildConfig(
      validateEnv({
        DATABASE_URL: `postgres://postgres:${DATABASE_PASSWORD}@127.0.0.1:${await freePort()}/nowhere`,
        REDIS_URL,
        MAGIC_HOUR_WEBHOOK_SECRET: WEBHOOK_SECRET,
        API_KEYS: API_KEY,
      }),
    );
    await createApp(unreachable).then(
      () => {
        throw new Error('the app started without its database');
      },
      (error: unknown) => logStartupFailure(error),
    );
    expect(POSTGRES_URL).not.toContain(DATABASE_PASSWORD);
    // Should a start failure quote a URL, its credentials are masked.
    logStartupFailure(new Error(`could not reach postgres://postgres:${DATABASE_PASSWORD}@db.internal:5432/hooks`));

    const logged = output.join('\n');
    // The run did log: what was refused, and why the start failed (so this test can see a leak).
    expect(logged).toContain('Webhook rejected (401)');
    expect(logged).toContain('Webhook stale (401)');
    expect(logged).toContain('signature does not match');
    expect(logged).toContain('magic-hour-event-signature header sent more than once');
    expect(logged).toContain('outside the allowed tolerance');
    expect(logged).toContain('Webhook quarantined');
    expect(logged).toContain('"eventKey":"quarantine:');
    expect(logged).toContain('Refused a request the HTTP parser could not read');
    expect(logged).toContain('Invalid environment');
    expect(logged).toContain('PORT must be an integer number');
    expect(logged).toContain('NODE_ENV=production requires API_KEYS');
    expect(logged).toContain('ECONNREFUSED');
    expect(logged).toContain('could not reach postgres://***@db.internal:5432/hooks');

    for (const secret of [WEBHOOK_SECRET, ROTATED_SECRET, API_KEY, OTHER_API_KEY, WRONG_API_KEY, DATABASE_PASSWORD, ...signatures]) {
      expect(logged).not.toContain(secret);
    }
    expect(logged).not.toMatch(/authorization:/i);
  });
});
