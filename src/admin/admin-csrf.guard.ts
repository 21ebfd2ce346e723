import { type CanActivate, type ExecutionContext, ForbiddenException, Injectable } from '@nestjs/common';
import type { Request, Response } from 'express';
import { adminSessionOf } from './admin-http.js';
import { AdminSessionService } from './admin-session.service.js';

/** Lets a console form through only with its session's CSRF token in the `csrf` field. */
@Injectable()
export class AdminCsrfGuard implements CanActivate {
  constructor(private readonly sessions: AdminSessionService) {}

  canActivate(context: ExecutionContext): boolean {
    const http = context.switchToHttp();
    const form = http.getRequest<Request>().body as Record<string, unknown> | undefined;
    if (!this.sessions.acceptsCsrf(adminSessionOf(http.getResponse<Response>()), form?.csrf)) {
      throw new ForbiddenException('This form is out of date or did not come from the console: reload the page and try again');
    }
    return true;
  }
}
