import { Controller, HttpCode, HttpStatus, Post, Req, UseGuards } from '@nestjs/common';
import { SignatureGuard, type WebhookRequest } from './signature.guard.js';
import { WebhookIntakeService, type IntakeResult } from './webhook-intake.service.js';

/** Where Magic Hour delivers events. The body arrives raw (see `rawWebhookBody`) for the signature check. */
@Controller('webhook')
export class WebhookController {
  constructor(private readonly intake: WebhookIntakeService) {}

  @Post()
  @HttpCode(HttpStatus.OK)
  @UseGuards(SignatureGuard)
  receive(@Req() request: WebhookRequest): Promise<IntakeResult> {
    return this.intake.receive(request.body, request.webhookSigned === true);
  }
}
