import { Injectable, type NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { ApiKeys } from '../common/api-key.guard.js';
import { ApiRateLimitService } from '../common/api-rate-limit.service.js';
import { errorBody } from '../common/http-error.filter.js';
import { ADMIN_LOGIN_PATH } from './admin.constants.js';
import { isSameOrigin, setAdminSession, wantsHtml } from './admin-http.js';
import { errorView } from './admin-pages.presenter.js';
import { AdminSessionService } from './admin-session.service.js';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Lets into the console (its pages and Bull Board) a request with a live session (loaded by
 * `AdminSessionMiddleware` before it) or a Bearer API key, or anyone when no API key is configured.
 * Otherwise a browser asking for a page is sent to the login, and anything else (Bull Board's API,
 * scripts) gets a 401. A cookie-borne request that changes something must also come from this host
 * (see `isSameOrigin`); the console's own forms carry a CSRF token on top (`AdminCsrfGuard`).
 *
 * A request with a Bearer key is counted, before its key is checked, against the REST API's rate
 * limit with the same budgets (its key's when valid, else its address's), so that the console is no
 * faster way to guess keys. Cookie sessions are not counted: the login that made them was, and Bull
 * Board polls its API several times a minute.
 */
@Injectable()
export class AdminAuthMiddleware implements NestMiddleware {
  constructor(
    private readonly sessions: AdminSessionService,
    private readonly rateLimit: ApiRateLimitService,
  ) {}

  async use(request: Request, response: Response, next: NextFunction): Promise<void> {
    response.setHeader('cache-control', 'no-store');
    const page = request.method === 'GET' && wantsHtml(request.headers);
    if (ApiKeys.fromBearer(request.headers.authorization) !== null) {
      const refusal = await this.rateLimit.take(request, response);
      if (refusal) {
        if (page) response.status(refusal.statusCode).render('error', errorView(null, refusal));
        else response.status(refusal.statusCode).json(refusal);
        return;
      }
    }
    const session = this.sessions.authenticate(request);
    if (!session) {
      if (page) {
        response.redirect(303, `${ADMIN_LOGIN_PATH}?${new URLSearchParams({ next: request.originalUrl }).toString()}`);
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
