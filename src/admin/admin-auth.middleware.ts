import { Injectable, type NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { errorBody } from '../common/http-error.filter.js';
import { ADMIN_LOGIN_PATH } from './admin.constants.js';
import { isSameOrigin, setAdminSession, wantsHtml } from './admin-http.js';
import { AdminSessionService } from './admin-session.service.js';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Lets into the console (its pages and Bull Board) a request with a session cookie or a Bearer API
 * key, or anyone when no API key is configured. Otherwise a browser asking for a page is sent to the
 * login, and anything else (Bull Board's API, scripts) gets a 401. A cookie-borne request that
 * changes something must also come from this host (see `isSameOrigin`); the console's own forms
 * carry a CSRF token on top (`AdminCsrfGuard`).
 */
@Injectable()
export class AdminAuthMiddleware implements NestMiddleware {
  constructor(private readonly sessions: AdminSessionService) {}

  use(request: Request, response: Response, next: NextFunction): void {
    response.setHeader('cache-control', 'no-store');
    const session = this.sessions.authenticate(request.headers);
    if (!session) {
      if (request.method === 'GET' && wantsHtml(request.headers)) {
        response.redirect(303, `${ADMIN_LOGIN_PATH}?${new URLSearchParams({ next: request.originalUrl })}`);
      } else {
        response.status(401).json(errorBody(401, 'Log in at /admin/login, or send Authorization: Bearer <key>'));
      }
      return;
    }
    if (session.access !== 'bearer' && !SAFE_METHODS.has(request.method) && !isSameOrigin(request.headers)) {
      response.status(403).json(errorBody(403, 'Cross-site request refused'));
      return;
    }
    setAdminSession(response, session);
    next();
  }
}
