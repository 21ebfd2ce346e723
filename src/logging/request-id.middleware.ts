import { Injectable, type NestMiddleware } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { runWithLogBindings } from './log-context.js';
import { assignRequestId } from './request-id.js';

/**
 * Gives every request its id (`x-request-id`, see `assignRequestId`) as `request.id`, and runs the rest of
 * the request with `reqId` bound, so that every line logged while serving it carries the id.
 */
@Injectable()
export class RequestIdMiddleware implements NestMiddleware {
  use(request: IncomingMessage & { id?: string }, response: ServerResponse, next: () => void): void {
    const reqId = assignRequestId(request, response);
    request.id = reqId;
    runWithLogBindings({ reqId }, next);
  }
}
