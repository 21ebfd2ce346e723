import { VALIDATION_OPTIONS } from '../common/rest-api.decorator.js';
import { ApiExcludeController } from '@nestjs/swagger';
import {
  Body,
  Controller,
  ForbiddenException,
  Get,
  Post,
  Query,
  Req,
  Res,
  UseFilters,
  UseGuards,
  UsePipes,
  ValidationPipe,
} from '@nestjs/common';
import { ApiThrottlerGuard } from '../common/api-throttler.guard.js';
import { errorBody } from '../common/http-error.filter.js';
import type { Request, Response } from 'express';
import { AdminLoginForm, AdminLoginQuery } from './admin.dto.js';
import { consolePath, isSameOrigin, wantsHtml } from './admin-http.js';
import { AdminPageFilter } from './admin-page.filter.js';
import { loginView } from './admin-pages.presenter.js';
import { AdminSessionService } from './admin-session.service.js';

/** The console's public route: its login. */
// HTML pages for people, not part of the REST API the OpenAPI document describes.
@ApiExcludeController()
@Controller('admin')
@UseFilters(AdminPageFilter)
@UsePipes(new ValidationPipe(VALIDATION_OPTIONS))
export class AdminLoginController {
  constructor(private readonly sessions: AdminSessionService) {}

  @Get('login')
  loginForm(@Query() query: AdminLoginQuery, @Req() request: Request, @Res() response: Response): void {
    const next = consolePath(query.next);
    if (this.sessions.authenticate(request)) return response.redirect(303, next);
    response.render('login', loginView(next));
  }

  /**
   * Checks the key (in constant time) and starts a session; the key itself is never stored.
   * A wrong key gets the form again with the reason, or a JSON `401` for a client not asking for HTML.
   * Rate limited per address like the REST API, so that the form is no faster way to guess keys.
   */
  @Post('login')
  @UseGuards(ApiThrottlerGuard)
  async login(@Body() form: AdminLoginForm, @Req() request: Request, @Res() response: Response): Promise<void> {
    if (!isSameOrigin(request.headers)) throw new ForbiddenException('Cross-site request refused');
    const next = consolePath(form.next);
    if (this.sessions.open) return response.redirect(303, next);
    if (!(await this.sessions.logIn(request, form.key))) {
      const refusal = 'That key is not one of the API keys (API_KEYS).';
      if (wantsHtml(request.headers)) response.status(401).render('login', loginView(next, refusal));
      else response.status(401).json(errorBody(401, refusal));
      return;
    }
    response.redirect(303, next);
  }
}
