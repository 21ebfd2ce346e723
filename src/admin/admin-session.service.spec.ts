import { describe, expect, it } from '@jest/globals';
import { buildConfig } from '../config/app.config.js';
import { validateEnv } from '../config/env.validation.js';
import { ADMIN_SESSION_COOKIE, ADMIN_SESSION_TTL_MS } from './admin.constants.js';
import { AdminSessionService, readCookie } from './admin-session.service.js';

const KEY_A = 'mh_live_4f1c2e9a7b3d';
const KEY_B = 'mh_live_8d0e5a6c1f2b';

const sessionsWith = (apiKeys?: string) => new AdminSessionService(buildConfig(validateEnv(apiKeys === undefined ? {} : { API_KEYS: apiKeys })));
const cookie = (token: string) => ({ cookie: `theme=dark; ${ADMIN_SESSION_COOKIE}=${token}; other=1` });

describe(AdminSessionService.name, () => {
  const sut = sessionsWith(`${KEY_A},${KEY_B}`);

  it('logs in with any configured key, and with nothing else', () => {
    expect(sut.login(KEY_A)).toEqual(expect.any(String));
    expect(sut.login(KEY_B)).toEqual(expect.any(String));
    for (const wrong of ['', KEY_A.toUpperCase(), `${KEY_A}x`, KEY_A.slice(0, -1), `${KEY_A},${KEY_B}`]) {
      expect(sut.login(wrong)).toBeNull();
    }
  });

  it('puts a signed token in the cookie, never the key', () => {
    const token = sut.login(KEY_A)!;
    expect(token).not.toContain(KEY_A);
    expect(token).toMatch(/^v1\.\d+\.[\w-]+\.[\w-]+\.[\w-]+$/);
  });

  it('verifies its own token until it expires, then refuses it', () => {
    const now = Date.now();
    const token = sut.login(KEY_A, now)!;
    const session = sut.verify(token, now + 1000);
    expect(session).toEqual({ access: 'cookie', csrfToken: expect.any(String), expiresAt: expect.any(Date) });
    expect(Math.abs(session!.expiresAt!.getTime() - (now + ADMIN_SESSION_TTL_MS))).toBeLessThan(1000);
    expect(sut.verify(token, now + ADMIN_SESSION_TTL_MS + 1000)).toBeNull();
  });

  it('refuses a token whose any part was changed', () => {
    const token = sut.login(KEY_A)!;
    const parts = token.split('.');
    const later = [...parts];
    later[1] = String(Number(parts[1]) + 3600);
    expect(sut.verify(later.join('.'))).toBeNull();
    for (let index = 0; index < parts.length; index++) {
      const changed = [...parts];
      changed[index] = `${changed[index].slice(0, -1)}${changed[index].endsWith('A') ? 'B' : 'A'}`;
      expect(sut.verify(changed.join('.'))).toBeNull();
    }
    for (const junk of ['', 'v1', 'v1.1.2.3', `${token}.x`, token.replace('v1', 'v2')]) expect(sut.verify(junk)).toBeNull();
  });

  it('refuses a token signed by another deployment, and ends sessions of a key no longer configured', () => {
    const token = sut.login(KEY_A)!;
    expect(sessionsWith(KEY_B).verify(token)).toBeNull();
    expect(sessionsWith(`${KEY_B},${KEY_A}`).verify(token)).not.toBeNull();
    expect(sessionsWith('mh_live_other,another').verify(token)).toBeNull();
  });

  it('gives each session its own CSRF token, and accepts only that one', () => {
    const first = sut.verify(sut.login(KEY_A)!)!;
    const second = sut.verify(sut.login(KEY_A)!)!;
    expect(first.csrfToken).not.toBe(second.csrfToken);
    expect(sut.acceptsCsrf(first, first.csrfToken)).toBe(true);
    expect(sut.acceptsCsrf(first, second.csrfToken)).toBe(false);
    expect(sut.acceptsCsrf(first, undefined)).toBe(false);
    expect(sut.acceptsCsrf(first, '')).toBe(false);
    expect(sut.acceptsCsrf(first, [first.csrfToken])).toBe(false);
  });

  it('authenticates a request by its cookie or its Bearer key', () => {
    expect(sut.authenticate(cookie(sut.login(KEY_B)!))?.access).toBe('cookie');
    expect(sut.authenticate({ authorization: `Bearer ${KEY_A}` })?.access).toBe('bearer');
    expect(sut.authenticate({})).toBeNull();
    expect(sut.authenticate(cookie('v1.9999999999.x.y.z'))).toBeNull();
    expect(sut.authenticate({ authorization: `Bearer ${KEY_A}x` })).toBeNull();
  });

  it('does not fall back to the cookie when a wrong Bearer key is sent', () => {
    expect(sut.authenticate({ ...cookie(sut.login(KEY_A)!), authorization: 'Bearer wrong' })).toBeNull();
  });

  it('needs no CSRF token from a Bearer request, which a browser never sends on its own', () => {
    const session = sut.authenticate({ authorization: `Bearer ${KEY_A}` })!;
    expect(sut.acceptsCsrf(session, undefined)).toBe(true);
  });

  describe('with no API key configured', () => {
    const open = sessionsWith();

    it('lets everyone in, as the REST API does, but still wants a CSRF token in forms', () => {
      expect(open.open).toBe(true);
      const session = open.authenticate({})!;
      expect(session.access).toBe('open');
      expect(open.acceptsCsrf(session, session.csrfToken)).toBe(true);
      expect(open.acceptsCsrf(session, 'guess')).toBe(false);
      expect(open.login('anything')).toBeNull();
    });
  });
});

describe(readCookie.name, () => {
  it('finds a cookie by its exact name', () => {
    expect(readCookie('a=1; mh_admin_session=tok.en; b=2', 'mh_admin_session')).toBe('tok.en');
    expect(readCookie('xmh_admin_session=1;mh_admin_session=2', 'mh_admin_session')).toBe('2');
    expect(readCookie('a=1', 'mh_admin_session')).toBeNull();
    expect(readCookie(undefined, 'mh_admin_session')).toBeNull();
    expect(readCookie('garbage', 'mh_admin_session')).toBeNull();
  });
});
