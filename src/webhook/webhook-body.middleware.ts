import {
  BadRequestException,
  Inject,
  Injectable,
  InternalServerErrorException,
  type NestMiddleware,
  PayloadTooLargeException,
  UnsupportedMediaTypeException,
} from '@nestjs/common';
import { raw, type NextFunction, type Request, type Response } from 'express';
import { APP_CONFIG, type AppConfig } from '../config/app.config.js';
import { bodyState, RAW_BODY_ADVICE } from './raw-body.check.js';
import { distinctHeaders } from './request-headers.js';
import { refuseUnsignableHeaders, SIGNATURE_HEADERS } from './signature.guard.js';

/** The headers this middleware reads, as sent (each once, or refused). */
const READ_HEADERS = [...SIGNATURE_HEADERS, 'content-type'];

/**
 * Whether a request's `Content-Type` lets its body be read as a webhook: JSON (`application/json` or
 * `application/*+json`) in UTF-8, or none at all. Magic Hour sends `application/json`.
 */
export function acceptsContentType(value: string | undefined): boolean {
  if (value === undefined || value === 'application/json') return true;
  const [mediaType, ...parameters] = value.split(';');
  const type = mediaType.trim().toLowerCase();
  if (type !== 'application/json' && !/^application\/[a-z0-9.!#$&^_-]+\+json$/.test(type)) return false;
  return parameters.every((parameter) => {
    const [name, value = ''] = parameter.split('=', 2);
    return name.trim().toLowerCase() !== 'charset' || /^"?utf-8"?$/i.test(value.trim());
  });
}

/**
 * Reads a webhook's body as the raw bytes the signature covers (`request.body` is a Buffer), with
 * Express's own raw parser: over `WEBHOOK_BODY_LIMIT_BYTES` is a 413 as soon as the length says so,
 * a compressed body is a 415 (the signature covers the bytes as sent). A body that declares a type
 * other than JSON is refused with 415 before it is read, and, with signing on, a delivery whose
 * signature or timestamp header is missing, repeated or malformed with 401 (`refuseUnsignableHeaders`).
 */
@Injectable()
export class WebhookBodyMiddleware implements NestMiddleware {
  private readonly parse: (request: Request, response: Response, next: NextFunction) => void;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {
    this.parse = raw({ type: () => true, limit: config.webhookBodyLimitBytes, inflate: false });
  }

  use(request: Request, response: Response, next: NextFunction): void {
    const headers = distinctHeaders(request.rawHeaders, READ_HEADERS);
    try {
      refuseUnsignableHeaders(this.config, headers);
    } catch (refusal) {
      // The body is not read: close the connection after the answer rather than wait for it.
      response.setHeader('connection', 'close');
      throw refusal;
    }
    const contentTypes = headers['content-type'];
    if (contentTypes !== undefined && contentTypes.length > 1) {
      throw new BadRequestException('Content-Type header sent more than once');
    }
    if (!acceptsContentType(contentTypes?.[0])) {
      throw new UnsupportedMediaTypeException('Unsupported content type: send application/json');
    }
    // A host app that parsed the body already (Nest's parser with `rawBody: true`) kept its bytes.
    const state = bodyState(request);
    if (state === 'unread') return this.parse(request, response, next);
    if (state === 'parsed') throw new InternalServerErrorException(`The raw body is not available: ${RAW_BODY_ADVICE}`);
    const raw = (request as Request & { rawBody: Buffer }).rawBody;
    if (raw.length > this.config.webhookBodyLimitBytes) throw new PayloadTooLargeException('request entity too large');
    request.body = raw;
    next();
  }
}
