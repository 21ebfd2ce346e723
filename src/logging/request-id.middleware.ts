import { Injectable, type NestMiddleware } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { runWithLogBindings } from './log-context.js';
import { assignRequestId } from './request-id.js';

/** Gives every request its id (`x-request-id`, see `assignRequestId`) as `request.id`. */
@Injectable()
export class RequestIdMiddleware implements NestMiddleware {
  use(request: IncomingMessage & { id?: string }, response: ServerResponse, next: () => void): void {
    request.id = assignRequestId(request, response);
    next();
  }
}

/**
 * Runs the rest of a request with its `reqId` bound, so that every line logged while serving it, through
 * any logger, carries the id. Not on the webhook: AsyncLocalStorage makes every promise of the process
 * pay for hooks, and a delivery's one line carries its id anyway.
 */
@Injectable()
export class RequestLogContextMiddleware implements NestMiddleware {
  use(request: IncomingMessage & { id?: string }, _response: ServerResponse, next: () => void): void {
    runWithLogBindings({ reqId: request.id }, next);
  }
}
