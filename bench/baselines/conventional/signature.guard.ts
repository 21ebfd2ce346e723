import { CanActivate, ExecutionContext, Injectable, UnauthorizedException, type RawBodyRequest } from '@nestjs/common';
import type { Request } from 'express';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { conventionalConfig, WEBHOOK_TOLERANCE_SECONDS } from './conventional.config.js';

/** Lets a request through only with Magic Hour's HMAC-SHA256 signature over `{timestamp}.{raw body}`. */
@Injectable()
export class SignatureGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<RawBodyRequest<Request>>();
    const signature = request.header('magic-hour-event-signature');
    const timestamp = request.header('magic-hour-event-timestamp');
    if (!signature || !timestamp || !request.rawBody) throw new UnauthorizedException('Missing signature');
    if (Math.abs(Date.now() / 1000 - Number(timestamp)) > WEBHOOK_TOLERANCE_SECONDS) {
      throw new UnauthorizedException('Stale timestamp');
    }
    const expected = createHmac('sha256', conventionalConfig.webhookSecret)
      .update(`${timestamp}.${request.rawBody.toString('utf8')}`)
      .digest('hex');
    const given = Buffer.from(signature);
    if (given.length !== expected.length || !timingSafeEqual(given, Buffer.from(expected))) {
      throw new UnauthorizedException('Invalid signature');
    }
    return true;
  }
}
