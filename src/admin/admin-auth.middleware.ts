import { Inject, Injectable, type NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { ApiKeys } from '../common/api-key.guard.js';
import { rateLimitMessage, takeRateLimit } from '../common/api-rate-limit.guard.js';
import { ApiRateLimiter } from '../common/api-rate-limiter.js';
import { errorBody } from '../common/http-error.filter.js';
import { APP_CONFIG, type AppConfig } from '../config/app.config.js';
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
  private readonly keys: ApiKeys;

  constructor(
    private readonly sessions: AdminSessionService,
    private readonly limiter: ApiRateLimiter,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.keys = new ApiKeys(config.apiKeys);
  }

  use(request: Request, response: Response, next: NextFunction): void {
    response.setHeader('cache-control', 'no-store');
    const page = request.method === 'GET' && wantsHtml(request.headers);
    if (ApiKeys.fromBearer(request.headers.authorization) !== null) {
      const verdict = takeRateLimit(this.limiter, this.keys, request, response);
      if (!verdict.allowed) {
        const body = errorBody(429, rateLimitMessage(this.limiter, verdict));
        if (page) response.status(429).render('error', errorView(null, body));
        else response.status(429).json(body);
        return;
      }
    }
    const session = this.sessions.authenticate(request);
    if (!session) {
      if (page) {
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
