import { Injectable } from '@nestjs/common';
import { InvalidWebhookError } from '../common/domain.errors.js';
import type { DeliveryTrace } from './webhook-delivery.js';
import { outcomeOf } from './webhook-outcome.js';
import { WebhookEventParser, type ParsedEvent } from './webhook-event.parser.js';
import type { IntakeStatus, NewWebhookEvent } from './webhook-event.repository.js';
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
   * @param event the delivery's body as `WebhookEventPipe` classified it
   * @param signed whether its signature was verified; an unsigned invalid body is refused, not kept
   * @param trace filled in with what the body turned out to be and the outcome
   * @throws InvalidWebhookError when the body is invalid and unsigned
   * @throws StorageUnavailableError when Postgres cannot store it
   */
  async receive(event: ParsedEvent, signed: boolean, trace?: DeliveryTrace): Promise<IntakeResult> {
    if (trace) {
      trace.type = event.type;
      trace.eventKey = event.eventKey;
      if (event.kind === 'invalid') trace.problems = event.errors;
    }
    if (event.kind === 'invalid' && !signed) {
      throw new InvalidWebhookError(event.errors);
    }
    const { duplicate } = await this.batcher.store(toRow(event));
    const result = answerFor(event, duplicate);
    // The delivery's log line (WebhookDeliveryLogMiddleware) says which it was, with the key and the reasons.
    if (trace) trace.outcome = outcomeOf(result);
    return result;
  }

  /**
   * Records an authentic delivery signed outside the timestamp tolerance as a `stale` event, once per
   * key, so that an operator can see and replay it; it is not processed. A later fresh delivery of
   * the same event replaces it (see `WebhookEventRepository.settleDuplicates`). The delivery is
   * answered 401 whatever happens here, as Magic Hour's documentation asks.
   * @throws StorageUnavailableError when Postgres cannot store it
   */
  async holdStale(body: Buffer, signedAt: Date, trace?: DeliveryTrace): Promise<void> {
    const event = await this.parser.parse(body);
    if (trace) {
      trace.type = event.type;
      trace.eventKey = event.eventKey;
    }
    const fresh = toRow(event);
    const row: NewWebhookEvent = { ...fresh, status: 'stale', stale: { releaseStatus: fresh.status, signedAt } };
    await this.batcher.store(row);
  }
}

function answerFor(event: ParsedEvent, duplicate: boolean): IntakeResult {
  if (duplicate) return { received: true, duplicate: true };
  if (event.kind === 'invalid') return { received: true, duplicate: false, quarantined: true };
  if (event.kind === 'unknown') return { received: true, duplicate: false, ignored: true };
  return { received: true, duplicate: false };
}

/** The inbox row intake stores for a parsed body. */
function toRow(event: ParsedEvent): NewWebhookEvent & { status: IntakeStatus } {
  return {
    eventKey: event.eventKey,
    type: event.type,
    media: event.media,
    projectId: event.projectId,
    status: event.kind === 'valid' ? 'received' : event.kind === 'unknown' ? 'ignored' : 'quarantined',
    payloadJson: event.payloadJson,
    lastError: event.kind === 'invalid' ? event.errors.join('; ') : null,
  };
}
