import { ApiExcludeController } from '@nestjs/swagger';
import { Body, Controller, ForbiddenException, Get, Header, Post, Query, Req, Res, UseFilters, UseGuards } from '@nestjs/common';
import { ApiThrottlerGuard } from '../common/api-throttler.guard.js';
import { errorBody } from '../common/http-error.filter.js';
import type { Request, Response } from 'express';
import { ADMIN_PATH, ADMIN_SESSION_COOKIE, ADMIN_SESSION_TTL_MS, ADMIN_STYLESHEET_PATH } from './admin.constants.js';
import { AdminLoginForm, AdminLoginQuery } from './admin.dto.js';
import { consolePath, isSameOrigin, wantsHtml } from './admin-http.js';
import { AdminPageFilter } from './admin-page.filter.js';
import { loginPage } from './admin-pages.js';
import { AdminSessionService } from './admin-session.service.js';
import { ADMIN_STYLESHEET } from './admin-style.js';

/** The console's public routes: its login and its stylesheet. */
// HTML pages for people, not part of the REST API the OpenAPI document describes.
@ApiExcludeController()
@Controller('admin')
@UseFilters(AdminPageFilter)
export class AdminLoginController {
  constructor(private readonly sessions: AdminSessionService) {}

  @Get('login')
  loginForm(@Query() query: AdminLoginQuery, @Req() request: Request, @Res() response: Response): void {
    const next = consolePath(query.next);
    if (this.sessions.authenticate(request.headers)) return response.redirect(303, next);
    response.type('html').send(loginPage(next));
  }

  /**
   * Checks the key (in constant time) and sets the session cookie; the key itself is never stored.
   * A wrong key gets the form again with the reason, or a JSON `401` for a client not asking for HTML.
   * Rate limited per address like the REST API, so that the form is no faster way to guess keys.
   */
  @Post('login')
  @UseGuards(ApiThrottlerGuard)
  login(@Body() form: AdminLoginForm, @Req() request: Request, @Res() response: Response): void {
    if (!isSameOrigin(request.headers)) throw new ForbiddenException('Cross-site request refused');
    const next = consolePath(form.next);
    if (this.sessions.open) return response.redirect(303, next);
    const token = this.sessions.login(form.key);
    if (token === null) {
      const refusal = 'That key is not one of the API keys (API_KEYS).';
      if (wantsHtml(request.headers)) response.status(401).type('html').send(loginPage(next, refusal));
      else response.status(401).json(errorBody(401, refusal));
      return;
    }
    response.cookie(ADMIN_SESSION_COOKIE, token, {
      httpOnly: true,
      sameSite: 'strict',
      secure: request.secure,
      path: ADMIN_PATH,
      maxAge: ADMIN_SESSION_TTL_MS,
    });
    response.redirect(303, next);
  }

  @Get(ADMIN_STYLESHEET_PATH.slice(ADMIN_PATH.length + 1))
  @Header('content-type', 'text/css; charset=utf-8')
  @Header('cache-control', 'public, max-age=3600')
  stylesheet(): string {
    return ADMIN_STYLESHEET;
  }
}
