import { CanActivate, ExecutionContext, Inject, Injectable, Logger, UnauthorizedException } from '@nestjs/common';
import type { Response } from 'express';
import { APP_CONFIG, type AppConfig } from '../config/app.config.js';
import { distinctHeaders } from './request-headers.js';
import { deliveryTrace, type WebhookRequest } from './webhook-delivery.js';
import { WebhookIntakeService } from './webhook-intake.service.js';
import { checkSignatureHeaders, SIGNATURE_HEADER, TIMESTAMP_HEADER, verifySignature } from '../magic-hour/webhook-signature.js';

/** Headers as Node gives them: a string, or an array when the header came more than once. */
export type RequestHeaders = Record<string, string | string[] | undefined>;

/** What the signature check found about a delivery it did not refuse outright. */
export interface SignatureCheck {
  /** `true` when the signature was verified; `false` when signing is off (no secret configured). */
  signed: boolean;
  /**
   * Set when the signature is right but the timestamp is outside the tolerance: the delivery is
   * authentic, to be recorded as stale and then refused with `refusal` (401).
   */
  stale?: { signedAt: Date; refusal: UnauthorizedException };
}

/** The headers a signature check reads, each of which must come once. */
export const SIGNATURE_HEADERS = [SIGNATURE_HEADER, TIMESTAMP_HEADER] as const;

/** The one value of a header, or `null` when it came more than once (Node's arrays, or `headersDistinct`). */
const single = (value: string | string[] | undefined): string | undefined | null =>
  Array.isArray(value) ? (value.length === 1 ? value[0] : null) : value;

/**
 * Lets a webhook through only when it is signed with one of the configured secrets and its timestamp
 * is within the tolerance. Runs on the raw bytes, before any JSON parsing. With no secret configured
 * (allowed outside production) it lets everything through and marks the request unsigned. A right
 * signature outside the tolerance is recorded as a `stale` event (once per key, for an operator to
 * replay) and refused with 401, as Magic Hour's documentation asks.
 */
@Injectable()
export class SignatureGuard implements CanActivate {
  private readonly logger = new Logger(SignatureGuard.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly intake: WebhookIntakeService,
  ) {}

  /** Synchronous for every delivery but a stale one, which waits for it to be recorded. */
  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const http = context.switchToHttp();
    const request = http.getRequest<WebhookRequest>();
    if (!Buffer.isBuffer(request.body)) request.body = Buffer.alloc(0);
    const check = this.check(distinctHeaders(request.rawHeaders, SIGNATURE_HEADERS), request.body);
    if (check.stale) return this.refuseStale(request.body, check.stale, http.getResponse<Response>());
    request.webhookSigned = check.signed;
    return true;
  }

  /** Records an authentic delivery outside the tolerance as stale, then refuses it (401) all the same. */
  private async refuseStale(body: Buffer, stale: NonNullable<SignatureCheck['stale']>, response: Response): Promise<never> {
    const trace = deliveryTrace(response);
    // Answered 401 either way; counted `stale` only when it was recorded, `rejected` when it could not be.
    await this.intake.holdStale(body, stale.signedAt, trace).then(
      () => (trace.outcome = 'stale'),
      (error: unknown) => this.logger.error(`Could not record a stale webhook: ${(error as Error).message}`),
    );
    throw stale.refusal;
  }

  /**
   * Checks a delivery's signature. Pass the headers as `headersDistinct` has them (or `distinctHeaders`),
   * so that a header sent twice is seen as such (Node joins most repeated headers into one string otherwise). A refusal
   * is logged by the caller, with the delivery's request id.
   * @throws UnauthorizedException (401) when it is missing, repeated or wrong; a right signature
   *   outside the tolerance is returned as `stale` instead, for the caller to record and refuse
   */
  check(headers: RequestHeaders, body: Buffer): SignatureCheck {
    if (this.config.webhookSecrets.length === 0) return { signed: false };
    const { signature, timestamp } = signatureHeaders(headers);
    const failure = verifySignature({
      secrets: this.config.webhookSecrets,
      toleranceSeconds: this.config.webhookToleranceSeconds,
      signature,
      timestamp,
      body,
      nowSeconds: Math.floor(Date.now() / 1000),
    });
    if (failure === 'timestamp is outside the allowed tolerance') {
      // verifySignature checks the tolerance only once the signature matched: this one is authentic.
      return { signed: true, stale: { signedAt: new Date(Number(timestamp) * 1000), refusal: refusal(failure) } };
    }
    if (failure !== null) throw refusal(failure);
    return { signed: true };
  }
}

const refusal = (reason: string) => new UnauthorizedException(`Invalid webhook signature: ${reason}`);

/** A delivery's signature and timestamp headers, each sent once. */
function signatureHeaders(headers: RequestHeaders): { signature: string | undefined; timestamp: string | undefined } {
  const signature = single(headers[SIGNATURE_HEADER]);
  const timestamp = single(headers[TIMESTAMP_HEADER]);
  if (signature === null || timestamp === null) {
    throw refusal(`${signature === null ? SIGNATURE_HEADER : TIMESTAMP_HEADER} header sent more than once`);
  }
  return { signature, timestamp };
}

/**
 * Refuses, on its headers alone, a delivery `SignatureGuard` is bound to refuse: with signing on, a
 * signature or timestamp header that is missing, repeated or malformed. Run before the body is read, so
 * that a client without a plausible signature cannot hold a connection open by sending its body slowly;
 * the HMAC itself is checked by `SignatureGuard` once the body is in.
 * @throws UnauthorizedException (401), with the message `SignatureGuard` would give
 */
export function refuseUnsignableHeaders(config: AppConfig, headers: RequestHeaders): void {
  if (config.webhookSecrets.length === 0) return;
  const { signature, timestamp } = signatureHeaders(headers);
  const checked = checkSignatureHeaders(signature, timestamp);
  if (typeof checked === 'string') throw refusal(checked);
}
