import { type MiddlewareConsumer, Module, type NestModule, RequestMethod } from '@nestjs/common';
import { SignatureGuard } from './signature.guard.js';
import { WebhookBodyMiddleware } from './webhook-body.middleware.js';
import { WebhookDeliveryLogMiddleware } from './webhook-delivery-log.middleware.js';
import { WebhookEventParser } from './webhook-event.parser.js';
import { WebhookEventPipe } from './webhook-event.pipe.js';
import { WebhookEventRepository } from './webhook-event.repository.js';
import { WebhookIntakeBatcher } from './webhook-intake.batcher.js';
import { WebhookIntakeService } from './webhook-intake.service.js';
import { WebhookQueueModule } from '../queue/webhook-queue.module.js';
import { WEBHOOK_ROUTE } from '../queue/queue.constants.js';
import { WebhookController } from './webhook.controller.js';

/**
 * `WebhookModule`, intake (the HTTP role): `POST /webhook` with its raw-body parser and per-delivery log line, the
 * signature guard, the DTO pipe, and the group commit into the inbox.
 */
@Module({
  imports: [WebhookQueueModule],
  controllers: [WebhookController],
  providers: [
    WebhookEventRepository,
    WebhookEventParser,
    WebhookEventPipe,
    WebhookIntakeBatcher,
    WebhookIntakeService,
    SignatureGuard,
    WebhookBodyMiddleware,
    WebhookDeliveryLogMiddleware,
  ],
})
export class WebhookModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(WebhookDeliveryLogMiddleware, WebhookBodyMiddleware).forRoutes({ path: WEBHOOK_ROUTE, method: RequestMethod.POST });
  }
}
