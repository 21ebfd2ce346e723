import { beforeAll, describe, expect, it } from '@jest/globals';
import { type ExecutionContext, HttpStatus, Logger, UnauthorizedException } from '@nestjs/common';
import { signedHeaders } from '../../test/support/signing.js';
import { buildConfig } from '../config/app.config.js';
import { validateEnv } from '../config/env.validation.js';
import { SignatureGuard } from './signature.guard.js';
import type { WebhookIntakeService } from './webhook-intake.service.js';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER } from '../magic-hour/webhook-signature.js';

const SECRET = 'whsec_guard_test';
const BODY = '{"type":"video.started","payload":{"id":"cguard"}}';

interface FakeRequest {
  headers: Record<string, string | string[] | undefined>;
  rawHeaders: string[];
  body?: unknown;
  ip: string;
  webhookSigned?: boolean;
}

/** Stale deliveries the guard handed to intake (recording them in Postgres is covered end to end). */
const heldStale: Array<{ body: Buffer; signedAt: Date }> = [];
const intake = { holdStale: async (body: Buffer, signedAt: Date) => void heldStale.push({ body, signedAt }) };

const guardWith = (env: Record<string, string>) =>
  new SignatureGuard(buildConfig(validateEnv(env)), intake as unknown as WebhookIntakeService);

const contextFor = (request: FakeRequest) =>
  ({ switchToHttp: () => ({ getRequest: () => request, getResponse: () => ({ locals: {} }) }) }) as unknown as ExecutionContext;

const now = () => Math.floor(Date.now() / 1000);

const NO_BODY = Symbol('no body');

/** A request carrying `body` (the raw bytes of BODY unless given; `NO_BODY` for none at all). */
function request(headers: FakeRequest['headers'], body: unknown = Buffer.from(BODY)): FakeRequest {
  // As Node keeps them: every occurrence, names as sent.
  const rawHeaders = Object.entries(headers).flatMap(([name, value]) =>
    value === undefined ? [] : ([] as string[]).concat(value).flatMap((one) => [name.toUpperCase(), one]),
  );
  // `headers` as Node gives them: repeats joined into one string, so only `rawHeaders` shows them.
  const joined = Object.fromEntries(
    Object.entries(headers).map(([name, value]) => [name, Array.isArray(value) ? value.join(', ') : value]),
  );
  const base = { headers: joined, rawHeaders, ip: '203.0.113.7' };
  return body === NO_BODY ? base : { ...base, body };
}

/** Runs the guard, returning the exception it throws. */
async function refusal(sut: SignatureGuard, req: FakeRequest): Promise<UnauthorizedException> {
  try {
    await sut.canActivate(contextFor(req));
  } catch (error) {
    return error as UnauthorizedException;
  }
  throw new Error('the guard let the request through');
}

describe(SignatureGuard.name, () => {
  beforeAll(() => Logger.overrideLogger(false));

  describe('with signing off (no secret configured)', () => {
    const sut = guardWith({});

    it('lets an unsigned request through and marks it unsigned', async () => {
      const req = request({});
      expect(await sut.canActivate(contextFor(req))).toBe(true);
      expect(req.webhookSigned).toBe(false);
    });

    it('lets even a badly signed request through, marked unsigned', async () => {
      const req = request({ [SIGNATURE_HEADER]: 'f'.repeat(64), [TIMESTAMP_HEADER]: '1' });
      expect(await sut.canActivate(contextFor(req))).toBe(true);
      expect(req.webhookSigned).toBe(false);
    });

    it('treats a missing body as an empty buffer', async () => {
      const req = request({}, NO_BODY);
      await sut.canActivate(contextFor(req));
      expect(Buffer.isBuffer(req.body)).toBe(true);
      expect((req.body as Buffer).length).toBe(0);
    });
  });

  describe('with a secret configured', () => {
    const sut = guardWith({ MAGIC_HOUR_WEBHOOK_SECRET: SECRET });

    it('lets a well signed request through and marks it signed', async () => {
      const req = request(signedHeaders(BODY, SECRET));
      expect(await sut.canActivate(contextFor(req))).toBe(true);
      expect(req.webhookSigned).toBe(true);
    });

    it('accepts either of two rotated secrets', async () => {
      const rotating = guardWith({ MAGIC_HOUR_WEBHOOK_SECRET: 'whsec_old, whsec_new' });
      for (const secret of ['whsec_old', 'whsec_new']) {
        const req = request(signedHeaders(BODY, secret));
        expect(await rotating.canActivate(contextFor(req))).toBe(true);
        expect(req.webhookSigned).toBe(true);
      }
      expect(await refusal(rotating, request(signedHeaders(BODY, SECRET)))).toBeInstanceOf(UnauthorizedException);
    });

    it('refuses a bad signature with a 401 that says why', async () => {
      const req = request(signedHeaders(BODY, 'whsec_wrong'));
      const error = await refusal(sut, req);
      expect(error).toBeInstanceOf(UnauthorizedException);
      expect(error.getStatus()).toBe(HttpStatus.UNAUTHORIZED);
      expect(error.getResponse()).toMatchObject({
        statusCode: 401,
        message: 'Invalid webhook signature: signature does not match',
      });
      expect(req.webhookSigned).toBeUndefined();
    });

    it('refuses a signed body that was changed', async () => {
      const req = request(signedHeaders(BODY, SECRET), Buffer.from(BODY.replace('cguard', 'cguarD')));
      expect((await refusal(sut, req)).getStatus()).toBe(401);
    });

    it('refuses a request without signature headers', async () => {
      expect((await refusal(sut, request({}))).message).toBe('Invalid webhook signature: missing signature header');
    });

    it('refuses a signature older than the configured tolerance', async () => {
      const strict = guardWith({ MAGIC_HOUR_WEBHOOK_SECRET: SECRET, WEBHOOK_TOLERANCE_SECONDS: '60' });
      const req = request(signedHeaders(BODY, SECRET, now() - 120));
      heldStale.length = 0;
      expect((await refusal(strict, req)).message).toBe('Invalid webhook signature: timestamp is outside the allowed tolerance');
      expect(heldStale).toEqual([{ body: Buffer.from(BODY), signedAt: expect.any(Date) }]);
      expect(await sut.canActivate(contextFor(request(signedHeaders(BODY, SECRET, now() - 120))))).toBe(true);
    });

    it('reports a right signature outside the tolerance as stale (to record), with its signing time and a 401', async () => {
      const strict = guardWith({ MAGIC_HOUR_WEBHOOK_SECRET: SECRET, WEBHOOK_TOLERANCE_SECONDS: '60' });
      const signedAt = now() - 120;
      const check = strict.check(signedHeaders(BODY, SECRET, signedAt), Buffer.from(BODY));
      expect(check.signed).toBe(true);
      expect(check.stale?.signedAt).toEqual(new Date(signedAt * 1000));
      expect(check.stale?.refusal.getStatus()).toBe(401);
      expect(strict.check(signedHeaders(BODY, SECRET, now() + 120), Buffer.from(BODY)).stale).toBeDefined();
      expect(strict.check(signedHeaders(BODY, SECRET), Buffer.from(BODY))).toEqual({ signed: true });
    });

    it('throws, never reports stale, for a wrong signature outside the tolerance', async () => {
      expect(() => sut.check(signedHeaders(BODY, 'whsec_wrong', now() - 3600), Buffer.from(BODY))).toThrow(
        'Invalid webhook signature: signature does not match',
      );
    });

    it('refuses a signature header given twice (as an array), even with the right value', async () => {
      const headers = signedHeaders(BODY, SECRET);
      const req = request({ ...headers, [SIGNATURE_HEADER]: [headers[SIGNATURE_HEADER], headers[SIGNATURE_HEADER]] });
      expect((await refusal(sut, req)).message).toBe('Invalid webhook signature: magic-hour-event-signature header sent more than once');
    });

    it('refuses a timestamp header given twice (as an array)', async () => {
      const headers = signedHeaders(BODY, SECRET);
      const req = request({ ...headers, [TIMESTAMP_HEADER]: [headers[TIMESTAMP_HEADER], headers[TIMESTAMP_HEADER]] });
      expect((await refusal(sut, req)).message).toBe('Invalid webhook signature: magic-hour-event-timestamp header sent more than once');
    });

    it('takes a header given once as a one-element array (as headersDistinct has it)', async () => {
      const headers = signedHeaders(BODY, SECRET);
      const distinct = Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, [value]]));
      expect(sut.check(distinct, Buffer.from(BODY))).toEqual({ signed: true });
    });

    it('refuses duplicate signature headers joined by Node into one string', async () => {
      const headers = signedHeaders(BODY, SECRET);
      const req = request({ ...headers, [SIGNATURE_HEADER]: `${headers[SIGNATURE_HEADER]}, ${headers[SIGNATURE_HEADER]}` });
      expect((await refusal(sut, req)).getStatus()).toBe(401);
    });

    it('treats a missing body as an empty buffer, checked against the signature of no bytes', async () => {
      const req = request(signedHeaders('', SECRET), NO_BODY);
      expect(await sut.canActivate(contextFor(req))).toBe(true);
      expect(req.webhookSigned).toBe(true);
      expect(req.body).toEqual(Buffer.alloc(0));

      const notEmpty = request(signedHeaders(BODY, SECRET), NO_BODY);
      expect((await refusal(sut, notEmpty)).message).toBe('Invalid webhook signature: signature does not match');
    });

    it('treats a body already parsed to an object (not raw bytes) as empty, so it cannot pass', async () => {
      const req = request(signedHeaders(BODY, SECRET), JSON.parse(BODY));
      expect((await refusal(sut, req)).getStatus()).toBe(401);
      expect(req.body).toEqual(Buffer.alloc(0));
    });
  });
});
