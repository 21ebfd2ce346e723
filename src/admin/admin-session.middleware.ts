import { Inject, Injectable, type NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import session from 'express-session';
import { createHmac, randomBytes } from 'node:crypto';
import { APP_CONFIG, type AppConfig } from '../config/app.config.js';
import { ADMIN_PATH, ADMIN_SESSION_COOKIE, ADMIN_SESSION_TTL_MS } from './admin.constants.js';
import { AdminSessionStore } from './admin-session.store.js';

/**
 * What signs the session cookie: one secret derived from each API key (the first signs, any verifies,
 * so adding a key keeps sessions); with none configured (the open console), one made at start.
 */
function cookieSecrets(apiKeys: readonly string[]): string[] {
  if (apiKeys.length === 0) return [randomBytes(32).toString('base64url')];
  return apiKeys.map((key) => createHmac('sha256', key).update('mh-admin-session-cookie').digest('base64url'));
}

/**
 * `express-session` over the console's routes: loads the session its cookie names from
 * `AdminSessionStore`, and saves one only once something is put in it (a login, a CSRF token), so a
 * visitor or a script with a Bearer key leaves nothing behind. The cookie is `HttpOnly`,
 * `SameSite=Strict`, `Secure` when the request came over https (as `trust proxy` tells), scoped to the
 * console and ends with the login.
 */
@Injectable()
export class AdminSessionMiddleware implements NestMiddleware {
  private readonly handler: RequestHandler;

  constructor(store: AdminSessionStore, @Inject(APP_CONFIG) config: AppConfig) {
    this.handler = session({
      name: ADMIN_SESSION_COOKIE,
      secret: cookieSecrets(config.apiKeys),
      store,
      resave: false,
      saveUninitialized: false,
      cookie: { path: ADMIN_PATH, httpOnly: true, sameSite: 'strict', secure: 'auto', maxAge: ADMIN_SESSION_TTL_MS },
    });
  }

  use(request: Request, response: Response, next: NextFunction): void {
    this.handler(request, response, next);
  }
}
