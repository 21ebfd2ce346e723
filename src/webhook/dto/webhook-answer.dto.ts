import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { IntakeResult } from '../webhook-intake.service.js';

/** The `200` answer to `POST /webhook`: `IntakeResult`, described for the OpenAPI document. */
export class WebhookReceivedResponse implements IntakeResult {
  @ApiProperty({ enum: [true], description: 'Always true: the event is stored' })
  received!: true;

  @ApiProperty({ description: 'The same event (type and payload.id) was stored before; nothing new was stored' })
  duplicate!: boolean;

  @ApiPropertyOptional({ enum: [true], description: 'Signed but not a valid event: kept as quarantined, not processed' })
  quarantined?: true;

  @ApiPropertyOptional({ enum: [true], description: 'A well-formed event of a type this service does not know: kept as ignored' })
  ignored?: true;
}

// A field added to IntakeResult must be described here too: this stops the typecheck until it is.
const described: Record<keyof IntakeResult, keyof WebhookReceivedResponse> = {
  received: 'received',
  duplicate: 'duplicate',
  quarantined: 'quarantined',
  ignored: 'ignored',
};
void described;
