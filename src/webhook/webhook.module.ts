import {
  Controller,
  type DynamicModule,
  Inject,
  type MiddlewareConsumer,
  Module,
  type NestModule,
  RequestMethod,
  type Type,
} from '@nestjs/common';
import { RawBodyCheck, WEBHOOK_PATH } from './raw-body.check.js';
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

/** `path` as Nest routes take it: no leading or trailing slash. */
export const normaliseRoutePath = (path: string): string => path.replace(/^\/+|\/+$/g, '');

/** `WebhookController` at `path`: the class itself at the default route, else a subclass mapped there. */
function webhookControllerAt(path: string): Type<WebhookController> {
  if (path === WEBHOOK_ROUTE) return WebhookController;
  @Controller(path)
  class MagicHourWebhookController extends WebhookController {}
  return MagicHourWebhookController;
}

/**
 * `WebhookModule`, intake (the HTTP role): `POST /webhook` (or the path given) with its raw-body parser and
 * per-delivery log line, the signature guard, the DTO pipe, and the group commit into the inbox.
 */
@Module({})
export class WebhookModule implements NestModule {
  constructor(@Inject(WEBHOOK_PATH) private readonly path: string) {}

  /** @param path the route Magic Hour posts to, under the app's global prefix if it has one */
  static register(path: string = WEBHOOK_ROUTE): DynamicModule {
    const route = normaliseRoutePath(path);
    return {
      module: WebhookModule,
      imports: [WebhookQueueModule],
      controllers: [webhookControllerAt(route)],
      providers: [
        { provide: WEBHOOK_PATH, useValue: route },
        WebhookEventRepository,
        WebhookEventParser,
        WebhookEventPipe,
        WebhookIntakeBatcher,
        WebhookIntakeService,
        SignatureGuard,
        RawBodyCheck,
        WebhookBodyMiddleware,
        WebhookDeliveryLogMiddleware,
      ],
    };
  }

  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(WebhookDeliveryLogMiddleware, WebhookBodyMiddleware).forRoutes({ path: this.path, method: RequestMethod.POST });
  }
}
