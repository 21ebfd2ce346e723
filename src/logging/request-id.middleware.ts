import { Injectable, type NestMiddleware } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { assignRequestId } from './request-id.js';

/** Gives every request its id (`x-request-id`, see `assignRequestId`) as `request.id`. */
@Injectable()
export class RequestIdMiddleware implements NestMiddleware {
  use(request: IncomingMessage & { id?: string }, response: ServerResponse, next: () => void): void {
    request.id = assignRequestId(request, response);
    next();
  }
}
