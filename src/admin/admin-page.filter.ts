import { type ArgumentsHost, Catch, type ExceptionFilter, Logger } from '@nestjs/common';
import type { Request, Response } from 'express';
import { errorBodyFor } from '../common/http-error.filter.js';
import { findAdminSession, wantsHtml } from './admin-http.js';
import { errorView } from './admin-pages.presenter.js';

/** Errors of console routes: the same status and message as the API's, as a page for a browser. */
@Catch()
export class AdminPageFilter implements ExceptionFilter {
  private readonly logger = new Logger(AdminPageFilter.name);

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const response = http.getResponse<Response>();
    const body = errorBodyFor(exception, this.logger);
    if (response.headersSent) return;
    response.status(body.statusCode);
    if (wantsHtml(http.getRequest<Request>().headers)) {
      response.render('error', errorView(findAdminSession(response), body));
    } else {
      response.type('json').json(body);
    }
  }
}
