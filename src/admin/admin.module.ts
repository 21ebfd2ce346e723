import { type MiddlewareConsumer, Module, type NestModule, RequestMethod, UnsupportedMediaTypeException } from '@nestjs/common';
import { type NextFunction, type Request, type Response, urlencoded } from 'express';
import { errorBody } from '../common/http-error.filter.js';
import { EventsModule } from '../events/events.module.js';
import { JobsModule } from '../jobs/jobs.module.js';
import { QueueBoard } from '../queue/queue-board.js';
import { WebhookQueueModule } from '../queue/webhook-queue.module.js';
import { ReconcileStatusModule } from '../reconcile/reconcile-status.module.js';
import { ADMIN_FORM_LIMIT_BYTES, ADMIN_LOGIN_PATH, ADMIN_PATH, QUEUE_BOARD_PATH } from './admin.constants.js';
import { AdminAuthMiddleware } from './admin-auth.middleware.js';
import { AdminConsoleController } from './admin-console.controller.js';
import { AdminCsrfGuard } from './admin-csrf.guard.js';
import { hasControlCharacters, QUEUE_BOARD_CSP, setConsoleHeaders } from './admin-http.js';
import { AdminLoginController } from './admin-login.controller.js';
import { AdminSessionMiddleware } from './admin-session.middleware.js';
import { AdminSessionService } from './admin-session.service.js';
import { AdminSessionStore } from './admin-session.store.js';

const consoleHeaders = (_request: Request, response: Response, next: NextFunction): void => {
  setConsoleHeaders(response);
  next();
};
const boardHeaders = (_request: Request, response: Response, next: NextFunction): void => {
  setConsoleHeaders(response, QUEUE_BOARD_CSP);
  next();
};
/** Bull Board hands its input to Redis unchecked: refuse control characters (a NUL ended in a 500). */
const boardInput = (request: Request, response: Response, next: NextFunction): void => {
  if (!hasControlCharacters(request.originalUrl)) return next();
  response.status(400).json(errorBody(400, 'The path or query holds a control character'));
};
/**
 * The console's forms are urlencoded: anything else posted to it is refused before it is read. An
 * empty body is let through (a script's Bearer replay sends none); `is` answers `null` without one.
 */
const formsOnly = (request: Request, _response: Response, next: NextFunction): void => {
  const form = request.is('application/x-www-form-urlencoded');
  if (request.method === 'POST' && form === false && request.headers['content-length'] !== '0') {
    throw new UnsupportedMediaTypeException('Send the form as application/x-www-form-urlencoded');
  }
  next();
};
/**
 * Express's own form parser, on the console's routes only: the app has no global body parser (the
 * webhook reads its raw bytes). A larger body is refused with 413 before it is read.
 */
const readForm = urlencoded({ extended: false, limit: ADMIN_FORM_LIMIT_BYTES });

// Path patterns rather than controllers: Nest adds one Express layer per middleware and pattern, where a
// controller adds one per middleware and route, and every request to any route walks those layers.
const CONSOLE = { path: `${ADMIN_PATH.slice(1)}{/*path}`, method: RequestMethod.ALL };
const BOARD = { path: `${QUEUE_BOARD_PATH.slice(1)}{/*path}`, method: RequestMethod.ALL };
const LOGIN = { path: ADMIN_LOGIN_PATH.slice(1), method: RequestMethod.ALL };

/**
 * The operator console at `/admin` (pages rendered from `views/` over the jobs and events services)
 * and Bull Board at `/admin/queues`, both behind a login with an API key (sessions in Postgres);
 * HTTP role only. `useAdminViews` sets up its templates and stylesheet on the app.
 */
@Module({
  imports: [JobsModule, EventsModule, WebhookQueueModule, ReconcileStatusModule],
  controllers: [AdminLoginController, AdminConsoleController],
  providers: [AdminSessionStore, AdminSessionService, AdminSessionMiddleware, AdminAuthMiddleware, AdminCsrfGuard],
})
export class AdminModule implements NestModule {
  constructor(private readonly board: QueueBoard) {}

  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(consoleHeaders, AdminSessionMiddleware).exclude(BOARD).forRoutes(CONSOLE);
    consumer.apply(AdminAuthMiddleware).exclude(BOARD, LOGIN).forRoutes(CONSOLE);
    consumer.apply(formsOnly, readForm).exclude(BOARD).forRoutes(CONSOLE);
    consumer
      .apply(
        boardHeaders,
        AdminSessionMiddleware,
        AdminAuthMiddleware,
        boardInput,
        this.board.handler(QUEUE_BOARD_PATH, [{ text: 'Console', url: ADMIN_PATH }]),
      )
      .forRoutes(QUEUE_BOARD_PATH.slice(1));
  }
}
