import { Injectable, type PipeTransform } from '@nestjs/common';
import { WebhookEventParser, type ParsedEvent } from './webhook-event.parser.js';

/**
 * Validates a webhook's raw body against the envelope and payload DTOs (`WebhookEnvelopeDto`, the
 * per-media payload DTOs) and says what it is: a valid event, a well-formed event of an unknown type,
 * or an invalid body with the reasons. It never refuses: a signed but invalid body is kept
 * (quarantined), so the decision to refuse one belongs to intake, which knows whether it was signed.
 */
@Injectable()
export class WebhookEventPipe implements PipeTransform<Buffer, Promise<ParsedEvent>> {
  constructor(private readonly parser: WebhookEventParser) {}

  transform(body: Buffer): Promise<ParsedEvent> {
    return this.parser.parse(body);
  }
}
