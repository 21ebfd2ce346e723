import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Injectable, Logger } from '@nestjs/common';
import request from 'supertest';
import { OnMagicHourEvent, type HandlerContext, type MagicHourEvent } from '../src/handlers/index.js';
import type { JobResponse } from '../src/jobs/dto/job.response.js';
import { eventually, startApp, TEST_API_KEY, TEST_SECRET, type TestApp } from './support/app.js';
import { eventBody, projectId } from './support/events.js';
import { captureLog, type LogLine } from './support/log-capture.js';
import { signedHeaders } from './support/signing.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Logs through the context's logger, as a user's handler does. */
@Injectable()
class ChattyHandler {
  @OnMagicHourEvent('video.completed')
  note(event: MagicHourEvent, job: JobResponse, context: HandlerContext): void {
    context.logger.log(`saw job ${job.id}`);
  }
}

describe('Structured logs (real app, lines read from its log stream)', () => {
  let t: TestApp;
  const log = captureLog();
  /** Every value that must never reach a log: the API key, the secret and every signature sent. */
  const secrets = [TEST_API_KEY, TEST_SECRET, 'cookie-secret-value'];
  const lines = () => log.lines() as Array<LogLine & { time: string }>;
  const http = () => request(t.app.getHttpServer());
  const signed = (body: string, secret = TEST_SECRET) => {
    const headers = signedHeaders(body, secret);
    secrets.push(headers['magic-hour-event-signature']);
    return headers;
  };

  const job = projectId();
  const quarantinedJob = projectId();
  let restAnswer: request.Response;
  let badIdAnswer: request.Response;
  let hookAnswer: request.Response;
  let refusedAnswer: request.Response;

  beforeAll(async () => {
    t = await startApp({ LOG_LEVEL: 'debug' }, undefined, {
      handlers: [ChattyHandler],
      logDestination: log.destination,
    });
    const fakeSignature = 'ab'.repeat(32);
    secrets.push(fakeSignature);
    restAnswer = await http()
      .get('/jobs')
      .set('authorization', `Bearer ${TEST_API_KEY}`)
      .set('x-request-id', 'test-request-0001')
      .set('cookie', 'session=cookie-secret-value')
      .set('magic-hour-event-signature', fakeSignature);
    badIdAnswer = await http().get('/jobs').set('authorization', `Bearer ${TEST_API_KEY}`).set('x-request-id', 'not acceptable');

    const body = eventBody('video.completed', job);
    hookAnswer = await http().post('/webhook').set(signed(body)).set('x-request-id', 'hook-request-0001').send(body);
    const invalid = JSON.stringify({ type: 'video.completed', payload: { id: quarantinedJob, width: 'wide' } });
    await http().post('/webhook').set(signed(invalid)).send(invalid);
    const forged = eventBody('video.started', projectId());
    refusedAnswer = await http().post('/webhook').set(signed(forged, 'whsec_not_ours')).send(forged);
    new Logger('RedactionCheck').log({ apiKey: TEST_API_KEY, options: { secret: TEST_SECRET } }, 'logged with credentials');

    // The worker's and the handler's lines come once the event is processed.
    await eventually(async () => lines().some((line) => line.context === 'ChattyHandler.note'));
  });
  afterAll(async () => {
    await t?.close();
  });

  it('writes every line as JSON with a level, an ISO time and a message', () => {
    expect(lines().length).toBeGreaterThan(10);
    for (const line of lines()) {
      expect(typeof line.level).toBe('string');
      expect(new Date(line.time).toISOString()).toBe(line.time);
      expect(typeof line.msg).toBe('string');
    }
  });

  it('never writes the API key, the webhook secret, a cookie or a signature', () => {
    const text = log.text();
    for (const secret of secrets) expect(text).not.toContain(secret);
  });

  it('logs a REST request with its request id, echoed in the answer, and its credentials redacted', () => {
    expect(restAnswer.status).toBe(200);
    expect(restAnswer.headers['x-request-id']).toBe('test-request-0001');
    const line = lines().find((l) => l.reqId === 'test-request-0001' && l.req !== undefined);
    expect(line).toMatchObject({ level: 'info', msg: expect.stringMatching(/^GET \/jobs 200 in \d+ ms$/), res: { statusCode: 200 } });
    expect((line!.req as { headers: Record<string, string> }).headers).toMatchObject({
      authorization: '[Redacted]',
      cookie: '[Redacted]',
      'magic-hour-event-signature': '[Redacted]',
    });
  });

  it('replaces an unacceptable request id with a generated one', () => {
    const id = badIdAnswer.headers['x-request-id'];
    expect(id).toMatch(UUID);
    expect(lines().some((line) => line.reqId === id)).toBe(true);
    expect(lines().some((line) => line.reqId === 'not acceptable')).toBe(false);
  });

  it('logs each webhook delivery with its request id and event key', () => {
    expect(hookAnswer.headers['x-request-id']).toBe('hook-request-0001');
    expect(lines().find((line) => line.reqId === 'hook-request-0001')).toMatchObject({
      level: 'debug',
      context: 'WebhookController',
      eventKey: `video.completed:${job}`,
      outcome: 'stored',
      status: 200,
      msg: 'Webhook stored',
    });
    expect(lines().find((line) => line.eventKey === `video.completed:${quarantinedJob}`)).toMatchObject({
      level: 'warn',
      outcome: 'quarantined',
      reqId: expect.stringMatching(UUID),
      problems: [expect.stringContaining('payload.width')],
    });
    expect(lines().find((line) => line.reqId === refusedAnswer.headers['x-request-id'])).toMatchObject({
      level: 'warn',
      outcome: 'rejected',
      status: 401,
      msg: 'Webhook rejected (401): Invalid webhook signature: signature does not match',
    });
  });

  it("carries the event key and the job id in the worker's lines and in a handler's own lines", () => {
    expect(lines().find((line) => line.context === 'EventProcessingService' && line.eventKey === `video.completed:${job}`)).toMatchObject({
      level: 'debug',
      jobId: job,
      eventId: expect.stringMatching(UUID),
      queueJob: expect.any(String),
      latencyMs: expect.any(Number),
    });
    expect(lines().find((line) => line.context === 'ChattyHandler.note')).toMatchObject({
      level: 'info',
      msg: `saw job ${job}`,
      eventKey: `video.completed:${job}`,
      jobId: job,
      handler: 'ChattyHandler.note',
      attempt: 1,
    });
  });

  it('redacts secret and key fields in what the code logs', () => {
    expect(lines().find((line) => line.context === 'RedactionCheck')).toMatchObject({
      apiKey: '[Redacted]',
      options: { secret: '[Redacted]' },
      msg: 'logged with credentials',
    });
  });
});
