import { Body, Controller, HttpCode, Post, UseGuards } from '@nestjs/common';
import { SignatureGuard } from './signature.guard.js';
import { WebhookEventDto } from './webhook-event.dto.js';
import { WebhookService } from './webhook.service.js';

/** `POST /webhook`: signed, validated, stored, queued. */
@Controller('webhook')
export class WebhookController {
  constructor(private readonly webhookService: WebhookService) {}

  @Post()
  @HttpCode(200)
  @UseGuards(SignatureGuard)
  receive(@Body() event: WebhookEventDto): Promise<{ received: true; duplicate: boolean }> {
    return this.webhookService.receive(event);
  }
}
