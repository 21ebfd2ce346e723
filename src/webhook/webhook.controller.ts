import { Body, Controller, HttpCode, Post, Req, Res, UseFilters, UseGuards } from '@nestjs/common';
import type { Response } from 'express';
import { HttpErrorFilter } from '../common/http-error.filter.js';
import { SignatureGuard } from './signature.guard.js';
import { deliveryTrace, type WebhookRequest } from './webhook-delivery.js';
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
  // The request and response themselves rather than custom parameter decorators, each of which would
  // build an execution context for every delivery; Nest still sends the returned answer (`passthrough`).
  receive(
    @Body(WebhookEventPipe) event: ParsedEvent,
    @Req() request: WebhookRequest,
    @Res({ passthrough: true }) response: Response,
  ): Promise<IntakeResult> {
    return this.intake.receive(event, request.webhookSigned === true, deliveryTrace(response));
  }
}
