import { Body, Controller, HttpCode, Post, UseFilters, UseGuards } from '@nestjs/common';
import { HttpErrorFilter } from '../common/http-error.filter.js';
import { SignatureGuard } from './signature.guard.js';
import { Delivery, Signed, type DeliveryTrace } from './webhook-delivery.js';
import type { ParsedEvent } from './webhook-event.parser.js';
import { WebhookEventPipe } from './webhook-event.pipe.js';
import { WebhookIntakeService, type IntakeResult } from './webhook-intake.service.js';
import { WEBHOOK_ROUTE } from '../queue/queue.constants.js';
import { ApiWebhookOperation } from './webhook.openapi.js';

/**
 * `POST /webhook`, where Magic Hour delivers its events. The raw body (`WebhookBodyMiddleware`) is
 * checked by `SignatureGuard`, classified against the DTOs by `WebhookEventPipe`, then stored by intake;
 * the answer is 200 only once Postgres has the event. Its error filter gives the same answers inside a
 * host app.
 */
@Controller(WEBHOOK_ROUTE)
@UseFilters(HttpErrorFilter)
export class WebhookController {
  constructor(private readonly intake: WebhookIntakeService) {}

  @Post()
  @HttpCode(200)
  @UseGuards(SignatureGuard)
  @ApiWebhookOperation()
  receive(@Body(WebhookEventPipe) event: ParsedEvent, @Signed() signed: boolean, @Delivery() trace: DeliveryTrace): Promise<IntakeResult> {
    return this.intake.receive(event, signed, trace);
  }
}
