import { Injectable, type NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { performance } from 'node:perf_hooks';
import { parserAnswerOn } from '../common/client-error.responder.js';
import { PinoLogger } from '../logging/pino-logger.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { answerBodyProbe } from './raw-body.check.js';
import { deliveryTrace } from './webhook-delivery.js';
import { OUTCOME_LOG_LEVEL, type WebhookOutcome } from './webhook-outcome.js';

/** What a delivery whose client closed the connection before it was answered is logged with. */
const ABORTED = { status: 499, message: 'the client closed the connection before the answer' };

/**
 * One metric and one log line per delivery to `POST /webhook`, once it is answered: at debug when stored
 * or a duplicate (the default level writes nothing on the hot path), info when ignored, warn when
 * quarantined, refused or not stored, error on a 500. The line carries the request id (bound by
 * `RequestIdMiddleware`), the event key and the outcome; nothing is serialised for a line not written.
 */
@Injectable()
export class WebhookDeliveryLogMiddleware implements NestMiddleware {
  constructor(
    private readonly metrics: MetricsService,
    private readonly log: PinoLogger,
  ) {
    log.setContext('WebhookController');
  }

  use(request: Request, response: Response, next: NextFunction): void {
    // The start-up check of the app's body parsing is answered here, first on the route, and not counted.
    if (answerBodyProbe(request, response)) return;
    const started = performance.now();
    // 'close' comes once for every response, after 'finish' when the answer was sent in full.
    response.on('close', () => {
      // A request cut short by Node (past REQUEST_TIMEOUT_MS) is logged with what Node answered; one
      // whose client went away before any answer, as `aborted` (its event may be stored all the same).
      const answered = parserAnswerOn(request.socket);
      this.record(request, response, started, answered ?? (response.writableFinished ? undefined : ABORTED));
    });
    next();
  }

  private record(request: Request, response: Response, started: number, answered?: { status: number; message: string }): void {
    const status = answered?.status ?? response.statusCode;
    const trace = deliveryTrace(response);
    const outcome: WebhookOutcome = answered === ABORTED ? 'aborted' : (trace.outcome ?? (status >= 500 ? 'error' : 'rejected'));
    const seconds = (performance.now() - started) / 1000;
    this.metrics.recordWebhook(trace.type, outcome, seconds);
    const level = status === 500 ? 'error' : OUTCOME_LOG_LEVEL[outcome];
    if (!this.log.logger.isLevelEnabled(level)) return;
    const refusal = answered?.message ?? (response.locals.errorMessage as string | string[] | undefined);
    this.log[level](
      {
        reqId: (request as Request & { id?: string }).id,
        eventKey: trace.eventKey,
        outcome,
        status,
        responseTime: Math.round(seconds * 1000),
        ...(status === 200 ? {} : { remoteAddress: request.ip }),
        ...(trace.problems ? { problems: trace.problems } : {}),
      },
      status === 200 ? `Webhook ${outcome}` : `Webhook ${outcome} (${status}): ${String(refusal)}`,
    );
  }
}
