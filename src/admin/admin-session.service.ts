import { Inject, Injectable } from '@nestjs/common';
import type { IncomingHttpHeaders } from 'node:http';
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { ApiKeys } from '../common/api-key.guard.js';
import { APP_CONFIG, type AppConfig } from '../config/app.config.js';
import { ADMIN_SESSION_COOKIE, ADMIN_SESSION_TTL_MS } from './admin.constants.js';

/** How a request to the console was let in. */
export type AdminAccess = 'cookie' | 'bearer' | 'open';

/** The operator behind a console request. */
export interface AdminSession {
  access: AdminAccess;
  /** What a form that changes something must carry back (`csrf` field). */
  csrfToken: string;
  /** When a cookie session ends; `null` for a Bearer request or the open console. */
  expiresAt: Date | null;
}

const TOKEN_VERSION = 'v1';

const base64url = (bytes: Buffer): string => bytes.toString('base64url');
const hmac = (key: Buffer | string, data: string): Buffer => createHmac('sha256', key).update(data).digest();
const sameBytes = (a: string, b: string): boolean => {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
};

/** Reads one cookie from a `Cookie` header; `null` when it is not there. */
export function readCookie(header: string | undefined, name: string): string | null {
  for (const part of (header ?? '').split(';')) {
    const separator = part.indexOf('=');
    if (separator < 0) continue;
    if (part.slice(0, separator).trim() === name) return part.slice(separator + 1).trim();
  }
  return null;
}

/**
 * Console sessions. Logging in with an API key sets a cookie holding a signed token (never the key):
 * `v1.<expiry>.<key id>.<nonce>.<signature>`, signed with HMAC-SHA256 under a secret derived from
 * the key that logged in. Nothing is stored: removing a key from `API_KEYS` ends its sessions at the
 * next restart, and a token cannot outlive its expiry. The CSRF token of a session is derived from
 * the same secret and the session's nonce.
 *
 * With no API key configured the console is open, like the REST API; forms then carry a token
 * derived from a secret made at start.
 */
@Injectable()
export class AdminSessionService {
  private readonly keys: ApiKeys;
  /** Per configured key, in `API_KEYS` order: its id (public, in the token) and signing secret. */
  private readonly signers: ReadonlyArray<{ id: string; secret: Buffer }>;
  private readonly openSecret = randomBytes(32);

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.keys = new ApiKeys(config.apiKeys);
    this.signers = config.apiKeys.map((key) => ({
      id: base64url(createHash('sha256').update(`mh-admin-key-id:${key}`).digest().subarray(0, 9)),
      secret: hmac(key, 'mh-admin-session'),
    }));
  }

  /** Whether no API key is configured, so the console needs no login. */
  get open(): boolean {
    return !this.keys.configured;
  }

  /** A session token for `key` if it is one of `API_KEYS` (compared in constant time), else `null`. */
  login(key: string, now = Date.now()): string | null {
    const index = this.keys.indexOf(key);
    if (index < 0) return null;
    const signer = this.signers[index];
    const body = `${TOKEN_VERSION}.${Math.floor((now + ADMIN_SESSION_TTL_MS) / 1000)}.${signer.id}.${base64url(randomBytes(18))}`;
    return `${body}.${base64url(hmac(signer.secret, body))}`;
  }

  /** The session a token stands for, or `null` when it is malformed, forged, expired or its key is gone. */
  verify(token: string, now = Date.now()): AdminSession | null {
    const parts = token.split('.');
    if (parts.length !== 5 || parts[0] !== TOKEN_VERSION || !/^\d{1,12}$/.test(parts[1])) return null;
    const [, expiry, keyId, nonce, signature] = parts;
    const signer = this.signers.find((candidate) => candidate.id === keyId);
    if (!signer) return null;
    if (!sameBytes(signature, base64url(hmac(signer.secret, parts.slice(0, 4).join('.'))))) return null;
    const expiresAt = new Date(Number(expiry) * 1000);
    if (expiresAt.getTime() <= now) return null;
    return { access: 'cookie', csrfToken: base64url(hmac(signer.secret, `csrf.${nonce}`)), expiresAt };
  }

  /**
   * Who sent a request: anyone when the console is open; else a valid `Authorization: Bearer` key
   * (a wrong one is refused, not passed over for the cookie), else a valid session cookie; `null` otherwise.
   */
  authenticate(headers: IncomingHttpHeaders): AdminSession | null {
    if (this.open) return { access: 'open', csrfToken: base64url(hmac(this.openSecret, 'csrf.open')), expiresAt: null };
    if (headers.authorization !== undefined) {
      const key = ApiKeys.fromBearer(headers.authorization);
      const index = key === null ? -1 : this.keys.indexOf(key);
      if (index < 0) return null;
      return { access: 'bearer', csrfToken: base64url(hmac(this.signers[index].secret, 'csrf.bearer')), expiresAt: null };
    }
    const token = readCookie(headers.cookie, ADMIN_SESSION_COOKIE);
    return token === null ? null : this.verify(token);
  }

  /**
   * Whether a form's `csrf` field is the session's token. A Bearer request needs none: a browser never
   * adds that header on its own, so another site cannot make it send one.
   */
  acceptsCsrf(session: AdminSession, presented: unknown): boolean {
    if (session.access === 'bearer') return true;
    return typeof presented === 'string' && sameBytes(presented, session.csrfToken);
  }
}
