import { Inject, Injectable } from '@nestjs/common';
import { csrfSync } from 'csrf-sync';
import type { Request } from 'express';
import { createHash } from 'node:crypto';
import { ApiKeys } from '../common/api-key.guard.js';
import { asError } from '../common/domain.errors.js';
import { APP_CONFIG, type AppConfig } from '../config/app.config.js';
import { ADMIN_SESSION_TTL_MS } from './admin.constants.js';

declare module 'express-session' {
  interface SessionData {
    /** Which of `API_KEYS` logged in: an id derived from the key, never the key. */
    keyId: string;
    /** When the login ends (ms since the epoch), however often the session is used meanwhile. */
    expiresAt: number;
  }
}

/** How a request to the console was let in. */
export type AdminAccess = 'cookie' | 'bearer' | 'open';

/** The operator behind a console request. */
export interface AdminSession {
  access: AdminAccess;
  /** When a cookie session ends; `null` for a Bearer request or the open console. */
  expiresAt: Date | null;
  /**
   * What a form that changes something must carry back (`csrf` field): the session's synchronizer
   * token, made and stored in the session on first use; empty for a Bearer request, which needs none.
   */
  csrfToken(): string;
}

/** Bytes of a CSRF token (sent as hex). */
const CSRF_TOKEN_BYTES = 32;

/** The id a session records for the key that logged in. */
const keyIdOf = (key: string): string => createHash('sha256').update(`mh-admin-key-id:${key}`).digest('base64url').slice(0, 12);

/**
 * Console logins. The session lives in Postgres (`express-session` with `AdminSessionStore`) and the
 * cookie holds only its signed id; the session records which key logged in (by an id, never the key)
 * and when the login ends. Removing a key from `API_KEYS` ends its sessions at the next restart;
 * logging out deletes the session. CSRF tokens are `csrf-sync` synchronizer tokens kept in the session.
 *
 * With no API key configured the console is open, like the REST API; its forms still carry a token.
 */
@Injectable()
export class AdminSessionService {
  private readonly keys: ApiKeys;
  /** Per configured key, in `API_KEYS` order, the id a session records. */
  private readonly keyIds: readonly string[];
  private readonly csrf = csrfSync({
    size: CSRF_TOKEN_BYTES,
    getTokenFromRequest: (request) => {
      const presented = (request.body as Record<string, unknown> | undefined)?.csrf;
      return typeof presented === 'string' ? presented : undefined;
    },
  });

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.keys = new ApiKeys(config.apiKeys);
    this.keyIds = config.apiKeys.map(keyIdOf);
  }

  /** Whether no API key is configured, so the console needs no login. */
  get open(): boolean {
    return !this.keys.configured;
  }

  /**
   * Logs `request`'s client in if `key` is one of `API_KEYS` (compared in constant time): a new session
   * (a fresh id, so none planted before the login carries over) with its CSRF token, saved before the
   * answer goes out. `false` for any other key.
   */
  async logIn(request: Request, key: string, now = Date.now()): Promise<boolean> {
    const index = this.keys.indexOf(key);
    if (index < 0) return false;
    await new Promise<void>((resolve, reject) =>
      request.session.regenerate((error: unknown) => (error ? reject(asError(error)) : resolve())),
    );
    request.session.keyId = this.keyIds[index];
    request.session.expiresAt = now + ADMIN_SESSION_TTL_MS;
    this.csrf.generateToken(request, true);
    await new Promise<void>((resolve, reject) => request.session.save((error: unknown) => (error ? reject(asError(error)) : resolve())));
    return true;
  }

  /** Deletes the request's session from the store, so its cookie no longer lets anyone in. */
  async logOut(request: Request): Promise<void> {
    await new Promise<void>((resolve, reject) => request.session.destroy((error: unknown) => (error ? reject(asError(error)) : resolve())));
  }

  /**
   * Who sent a request: anyone when the console is open; else a valid `Authorization: Bearer` key
   * (a wrong one is refused, not passed over for the cookie), else a live session of a configured key;
   * `null` otherwise.
   */
  authenticate(request: Request, now = Date.now()): AdminSession | null {
    const csrfToken = (): string => this.csrf.generateToken(request);
    if (this.open) return { access: 'open', expiresAt: null, csrfToken };
    if (request.headers.authorization !== undefined) {
      const key = ApiKeys.fromBearer(request.headers.authorization);
      if (key === null || this.keys.indexOf(key) < 0) return null;
      return { access: 'bearer', expiresAt: null, csrfToken: () => '' };
    }
    const { keyId, expiresAt } = request.session ?? {};
    if (keyId === undefined || !this.keyIds.includes(keyId) || expiresAt === undefined || expiresAt <= now) return null;
    return { access: 'cookie', expiresAt: new Date(expiresAt), csrfToken };
  }

  /**
   * Whether a form may change something: its `csrf` field is its session's token. A Bearer request
   * needs none: a browser never adds that header on its own, so another site cannot make it send one.
   */
  acceptsCsrf(request: Request, session: AdminSession): boolean {
    return session.access === 'bearer' || this.csrf.isRequestValid(request);
  }
}
