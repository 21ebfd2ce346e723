import { Injectable, type NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { errorBody } from '../common/http-error.filter.js';
import { ADMIN_FORM_LIMIT_BYTES } from './admin.constants.js';

/**
 * Reads the console's HTML forms (`application/x-www-form-urlencoded`, at most
 * `ADMIN_FORM_LIMIT_BYTES`) into `request.body`, where the validation pipe checks them against their
 * DTO. The app has no global body parser on purpose (only the webhook takes a body, as raw bytes).
 */
@Injectable()
export class AdminFormMiddleware implements NestMiddleware {
  use(request: Request, response: Response, next: NextFunction): void {
    if (request.method !== 'POST') return next();
    const type = (request.headers['content-type'] ?? '').split(';', 1)[0].trim().toLowerCase();
    if (type !== 'application/x-www-form-urlencoded') {
      response.status(415).json(errorBody(415, 'Send the form as application/x-www-form-urlencoded'));
      return;
    }
    const declared = Number(request.headers['content-length'] ?? 0);
    if (declared > ADMIN_FORM_LIMIT_BYTES) {
      response.status(413).json(errorBody(413, `A form may have at most ${ADMIN_FORM_LIMIT_BYTES} bytes`));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > ADMIN_FORM_LIMIT_BYTES && !refused) {
        refused = true;
        response.status(413).setHeader('connection', 'close').json(errorBody(413, `A form may have at most ${ADMIN_FORM_LIMIT_BYTES} bytes`));
        request.resume();
      }
      if (!refused) chunks.push(chunk);
    });
    request.on('end', () => {
      if (refused) return;
      request.body = Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
      next();
    });
    request.on('error', (error) => {
      if (!refused) next(error);
      refused = true;
    });
  }
}
