import { type CanActivate, type ExecutionContext, ForbiddenException, Injectable } from '@nestjs/common';
import type { Request, Response } from 'express';
import { adminSessionOf } from './admin-http.js';
import { AdminSessionService } from './admin-session.service.js';

/**
 * Lets a console form through only with its session's CSRF token (a `csrf-sync` synchronizer token)
 * in the `csrf` field; a request with a Bearer key needs none.
 */
@Injectable()
export class AdminCsrfGuard implements CanActivate {
  constructor(private readonly sessions: AdminSessionService) {}

  canActivate(context: ExecutionContext): boolean {
    const http = context.switchToHttp();
    if (!this.sessions.acceptsCsrf(http.getRequest<Request>(), adminSessionOf(http.getResponse<Response>()))) {
      throw new ForbiddenException('This form is out of date or did not come from the console: reload the page and try again');
    }
    return true;
  }
}
