import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { errorBody } from '../common/http-error.filter.js';

interface BodyParserError extends Error {
  status?: number;
  type?: string;
}

/**
 * Reads a webhook body as raw bytes (any content type, up to `limitBytes`) into `req.body`, so that
 * the signature is checked over exactly what was sent, before any JSON parsing. Errors, such as a body
 * over the limit (413), are answered with the service's JSON error shape.
 */
export function rawWebhookBody(limitBytes: number): RequestHandler {
  const parse = express.raw({ type: () => true, limit: limitBytes });
  return (request: Request, response: Response, next: NextFunction) => {
    parse(request, response, (error?: BodyParserError) => {
      if (!error) return next();
      const status = error.status && error.status >= 400 && error.status < 500 ? error.status : 400;
      const message =
        error.type === 'entity.too.large'
          ? `Request body is larger than ${limitBytes} bytes`
          : error.type === 'encoding.unsupported'
            ? 'Unsupported content encoding'
            : 'Could not read the request body';
      response.status(status).json(errorBody(status, message));
    });
  };
}
