import { Injectable } from '@nestjs/common';
import { InvalidWebhookError } from '../common/domain.errors.js';
import { WebhookEventParser } from './webhook-event.parser.js';
import type { NewWebhookEvent } from './webhook-event.repository.js';
import { WebhookIntakeBatcher } from './webhook-intake.batcher.js';

/** The answer to a webhook delivery, once the event is stored. */
export interface IntakeResult {
  received: true;
  /** The same event (by key) was stored before; nothing new was stored. */
  duplicate: boolean;
  /** Signed but not a valid event: kept with its validation errors, not processed. */
  quarantined?: true;
  /** A well-formed event of a type this service does not know: kept, not processed. */
  ignored?: true;
}

/** What intake learnt of a delivery, for its metrics and log line; filled in as intake goes. */
export interface IntakeTrace {
  /** The event type as sent, once the body was read (`unknown` when it had none). */
  type?: string;
  eventKey?: string;
  /** Why the body is not a valid event (quarantined, or refused when unsigned). */
  problems?: readonly string[];
}

/**
 * Takes a webhook body, classifies it, and has it stored in the inbox and queued (grouped with
 * concurrent deliveries). An event is answered 2xx only once Postgres has it; Redis being away does
 * not fail the delivery.
 */
@Injectable()
export class WebhookIntakeService {
  constructor(
    private readonly parser: WebhookEventParser,
    private readonly batcher: WebhookIntakeBatcher,
  ) {}

  /**
   * @param body the raw request body
   * @param signed whether its signature was verified; an unsigned invalid body is refused, not kept
   * @param trace filled in with what the body turned out to be
   * @throws InvalidWebhookError when the body is invalid and unsigned
   * @throws StorageUnavailableError when Postgres cannot store it
   */
  async receive(body: Buffer, signed: boolean, trace?: IntakeTrace): Promise<IntakeResult> {
    const event = await this.parser.parse(body);
    if (trace) {
      trace.type = event.type;
      trace.eventKey = event.eventKey;
      if (event.kind === 'invalid') trace.problems = event.errors;
    }
    if (event.kind === 'invalid' && !signed) {
      throw new InvalidWebhookError(event.errors);
    }
    const row: NewWebhookEvent = {
      eventKey: event.eventKey,
      type: event.type,
      media: event.media,
      projectId: event.projectId,
      status: event.kind === 'valid' ? 'received' : event.kind === 'unknown' ? 'ignored' : 'quarantined',
      payloadJson: event.payloadJson,
      lastError: event.kind === 'invalid' ? event.errors.join('; ') : null,
    };

    const { duplicate } = await this.batcher.store(row);
    // The delivery's log line (WebhookHttpHandler) says which it was, with the key and the reasons.
    if (duplicate) return { received: true, duplicate: true };
    if (event.kind === 'invalid') return { received: true, duplicate: false, quarantined: true };
    if (event.kind === 'unknown') return { received: true, duplicate: false, ignored: true };
    return { received: true, duplicate: false };
  }
}
