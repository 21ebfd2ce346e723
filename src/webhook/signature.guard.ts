import { CanActivate, ExecutionContext, Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import type { Request } from 'express';
import type { IncomingHttpHeaders } from 'node:http';
import { APP_CONFIG, type AppConfig } from '../config/app.config.js';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER, verifySignature } from './webhook-signature.js';

/** A webhook request after the guard: its raw body and whether its signature was checked. */
export interface WebhookRequest extends Request {
  body: Buffer;
  /** `true` when the signature was verified; `false` when signing is off (no secret configured). */
  webhookSigned?: boolean;
}

const header = (value: string | string[] | undefined): string | undefined =>
  Array.isArray(value) ? value.join(',') : value;

/**
 * Lets a webhook through only when it is signed with one of the configured secrets and its timestamp
 * is within the tolerance. Runs on the raw bytes, before any JSON parsing. With no secret configured
 * (allowed outside production) it lets everything through and marks the request unsigned.
 */
@Injectable()
export class SignatureGuard implements CanActivate {
  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<WebhookRequest>();
    if (!Buffer.isBuffer(request.body)) request.body = Buffer.alloc(0);
    request.webhookSigned = this.check(request.headers, request.body);
    return true;
  }

  /**
   * Checks a delivery's signature. Returns `true` when it was verified, `false` when signing is off.
   * A refusal is logged by the caller, with the delivery's request id.
   * @throws UnauthorizedException (401) when it is missing, wrong or out of the tolerance
   */
  check(headers: IncomingHttpHeaders, body: Buffer): boolean {
    if (this.config.webhookSecrets.length === 0) return false;
    const failure = verifySignature({
      secrets: this.config.webhookSecrets,
      toleranceSeconds: this.config.webhookToleranceSeconds,
      signature: header(headers[SIGNATURE_HEADER]),
      timestamp: header(headers[TIMESTAMP_HEADER]),
      body,
      nowSeconds: Math.floor(Date.now() / 1000),
    });
    if (failure !== null) {
      throw new UnauthorizedException(`Invalid webhook signature: ${failure}`);
    }
    return true;
  }
}
