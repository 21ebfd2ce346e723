import { describe, expect, it } from '@jest/globals';
import express, { type Request } from 'express';
import session, { MemoryStore, type SessionData } from 'express-session';
import request from 'supertest';
import { buildConfig } from '../config/app.config.js';
import { validateEnv } from '../config/env.validation.js';
import { ADMIN_SESSION_TTL_MS } from './admin.constants.js';
import { AdminSessionService } from './admin-session.service.js';

const KEY_A = 'mh_live_4f1c2e9a7b3d';
const KEY_B = 'mh_live_8d0e5a6c1f2b';

const sessionsWith = (apiKeys?: string) =>
  new AdminSessionService(buildConfig(validateEnv(apiKeys === undefined ? {} : { API_KEYS: apiKeys })));

/** A request as `express-session` leaves it: headers, the session's data, a parsed form. */
const requestWith = (init: { authorization?: string; session?: Partial<SessionData>; body?: unknown } = {}) =>
  ({
    headers: init.authorization === undefined ? {} : { authorization: init.authorization },
    session: { ...init.session },
    body: init.body,
  }) as unknown as Request;

/**
 * An app with `express-session` (in memory: the store is not what is tested here) where
 * `POST /login` logs in with the `key` query parameter and answers the session id, if any.
 */
function loginApp(sut: AdminSessionService) {
  const store = new MemoryStore();
  const app = express();
  app.use(session({ name: 'sid', secret: 'test-secret', store, resave: false, saveUninitialized: false }));
  app.post('/login', async (req, res) => {
    const ok = await sut.logIn(req, typeof req.query.key === 'string' ? req.query.key : '');
    res.json({ ok, id: ok ? req.sessionID : null });
  });
  app.post('/plant', (req, res) => {
    req.session.keyId = 'planted';
    res.json({ id: req.sessionID });
  });
  const stored = (): Record<string, SessionData> =>
    Object.fromEntries(
      Object.entries((store as unknown as { sessions: Record<string, string> }).sessions).map(([id, json]) => [id, JSON.parse(json)]),
    );
  return { app, stored };
}

/** The session data a login with `key` leaves (on a request whose session saves nothing anywhere). */
async function loggedIn(sut: AdminSessionService, key: string, now = Date.now()): Promise<SessionData> {
  const done = (callback: (error?: unknown) => void) => callback();
  const req = { session: { regenerate: done, save: done } } as unknown as Request;
  expect(await sut.logIn(req, key, now)).toBe(true);
  const { keyId, expiresAt, csrfToken } = req.session as unknown as SessionData;
  return { keyId, expiresAt, csrfToken } as SessionData;
}

describe(AdminSessionService.name, () => {
  const sut = sessionsWith(`${KEY_A},${KEY_B}`);

  describe('logIn', () => {
    it('starts a session for a configured key, recording neither the key nor more than an id of it', async () => {
      const { app, stored } = loginApp(sut);
      const before = Date.now();
      const answer = await request(app).post(`/login?key=${KEY_B}`);
      expect(answer.body.ok).toBe(true);
      const saved = stored()[answer.body.id];
      expect(saved).toEqual(
        expect.objectContaining({
          keyId: expect.any(String),
          expiresAt: expect.any(Number),
          csrfToken: expect.stringMatching(/^[0-9a-f]{64}$/),
        }),
      );
      expect(JSON.stringify(saved)).not.toContain(KEY_B);
      expect(saved.expiresAt - before).toBeGreaterThanOrEqual(ADMIN_SESSION_TTL_MS);
      expect(saved.expiresAt - Date.now()).toBeLessThanOrEqual(ADMIN_SESSION_TTL_MS);
    });

    it('starts nothing for any other key', async () => {
      const { app, stored } = loginApp(sut);
      for (const wrong of ['', KEY_A.toUpperCase(), `${KEY_A}x`, KEY_A.slice(0, -1), `${KEY_A},${KEY_B}`]) {
        expect((await request(app).post(`/login?key=${encodeURIComponent(wrong)}`)).body).toEqual({ ok: false, id: null });
      }
      expect(stored()).toEqual({});
    });

    it('gives the login a new session id, so that one planted before it is not the logged-in one', async () => {
      const { app, stored } = loginApp(sut);
      const agent = request.agent(app);
      const planted = (await agent.post('/plant')).body.id as string;
      expect(Object.keys(stored())).toEqual([planted]);
      const loggedIn = (await agent.post(`/login?key=${KEY_A}`)).body.id as string;
      expect(loggedIn).not.toBe(planted);
      expect(Object.keys(stored())).toEqual([loggedIn]);
    });
  });

  describe('authenticate', () => {
    it('lets in a live session of a configured key until it ends, however it is used meanwhile', async () => {
      const now = Date.now();
      const { keyId } = await loggedIn(sut, KEY_A, now);
      const found = sut.authenticate(requestWith({ session: { keyId, expiresAt: now + 1000 } }), now);
      expect(found).toEqual({ access: 'cookie', expiresAt: new Date(now + 1000), csrfToken: expect.any(Function) });
      expect(sut.authenticate(requestWith({ session: { keyId, expiresAt: now + 1000 } }), now + 1000)).toBeNull();
      expect(sut.authenticate(requestWith({ session: { keyId } }), now)).toBeNull();
    });

    it('lets in no session of a key that is no longer configured, and none without a login', async () => {
      const session = await loggedIn(sut, KEY_A);
      expect(sessionsWith(`${KEY_B},${KEY_A}`).authenticate(requestWith({ session }))?.access).toBe('cookie');
      expect(sessionsWith(KEY_B).authenticate(requestWith({ session }))).toBeNull();
      expect(sut.authenticate(requestWith({ session: { ...session, keyId: 'forged' } }))).toBeNull();
      expect(sut.authenticate(requestWith())).toBeNull();
    });

    it('lets in a Bearer key, and does not fall back to the session when the key is wrong', async () => {
      expect(sut.authenticate(requestWith({ authorization: `Bearer ${KEY_A}` }))?.access).toBe('bearer');
      const session = await loggedIn(sut, KEY_A);
      expect(sut.authenticate(requestWith({ session }))?.access).toBe('cookie');
      expect(sut.authenticate(requestWith({ authorization: 'Bearer wrong', session }))).toBeNull();
      expect(sut.authenticate(requestWith({ authorization: `Bearer ${KEY_A}x` }))).toBeNull();
    });
  });

  describe('CSRF', () => {
    const cookieSession = async () => {
      const req = requestWith({ session: { ...(await loggedIn(sut, KEY_A)), csrfToken: undefined } });
      return { req, session: sut.authenticate(req)! };
    };

    it("keeps one token per session, in the session, and accepts only that one in a form's csrf field", async () => {
      const first = await cookieSession();
      const second = await cookieSession();
      const token = first.session.csrfToken();
      expect(token).toMatch(/^[0-9a-f]{64}$/);
      expect(first.session.csrfToken()).toBe(token);
      expect((first.req.session as SessionData).csrfToken).toBe(token);
      expect(second.session.csrfToken()).not.toBe(token);

      const withForm = (body: unknown) => Object.assign(first.req, { body });
      expect(sut.acceptsCsrf(withForm({ csrf: token }), first.session)).toBe(true);
      for (const body of [{ csrf: second.session.csrfToken() }, { csrf: '' }, { csrf: [token] }, {}, undefined]) {
        expect(sut.acceptsCsrf(withForm(body), first.session)).toBe(false);
      }
    });

    it('refuses every form of a session that has no token yet', async () => {
      const { req, session } = await cookieSession();
      expect(sut.acceptsCsrf(Object.assign(req, { body: { csrf: 'undefined' } }), session)).toBe(false);
    });

    it('needs no token from a Bearer request, which a browser never sends on its own', () => {
      const req = requestWith({ authorization: `Bearer ${KEY_A}` });
      const session = sut.authenticate(req)!;
      expect(session.csrfToken()).toBe('');
      expect(sut.acceptsCsrf(req, session)).toBe(true);
    });
  });

  describe('with no API key configured', () => {
    const open = sessionsWith();

    it('lets everyone in, as the REST API does, but still wants the session CSRF token in forms', async () => {
      expect(open.open).toBe(true);
      const req = requestWith();
      const session = open.authenticate(req)!;
      expect(session.access).toBe('open');
      const token = session.csrfToken();
      expect(open.acceptsCsrf(Object.assign(req, { body: { csrf: token } }), session)).toBe(true);
      expect(open.acceptsCsrf(Object.assign(req, { body: { csrf: 'guess' } }), session)).toBe(false);
      expect(await open.logIn(requestWith(), 'anything')).toBe(false);
    });
  });
});
