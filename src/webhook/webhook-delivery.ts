import type { Request, Response } from 'express';
import type { WebhookOutcome } from './webhook-outcome.js';

/**
 * What intake learnt of one delivery, for its metric and log line (`WebhookDeliveryLogMiddleware`);
 * filled in as the request goes (`response.locals.webhook`).
 */
export interface DeliveryTrace {
  /** The event type as sent, once the body was read (`unknown` when it had none). */
  type?: string;
  eventKey?: string;
  /** Why the body is not a valid event (quarantined, or refused when unsigned). */
  problems?: readonly string[];
  /** Set once the delivery was answered 200, or recorded as stale. */
  outcome?: WebhookOutcome;
}

/** A webhook request once `SignatureGuard` let it through. */
export interface WebhookRequest extends Request {
  /** The raw body, exactly as signed. */
  body: Buffer;
  /** `true` when the signature was verified; `false` when signing is off (no secret configured). */
  webhookSigned?: boolean;
}

/** The delivery's trace, made on first use. */
export function deliveryTrace(response: Response): DeliveryTrace {
  return ((response.locals.webhook as DeliveryTrace | undefined) ??= {});
}
