import { HttpException, Inject, Injectable } from '@nestjs/common';
import { PinoLogger } from 'nestjs-pino';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { InvalidWebhookError, StorageUnavailableError } from '../common/domain.errors.js';
import { errorBody } from '../common/http-error.filter.js';
import { APP_CONFIG, type AppConfig } from '../config/app.config.js';
import { assignRequestId } from '../logging/request-id.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { SignatureGuard } from './signature.guard.js';
import { WebhookIntakeService, type IntakeTrace } from './webhook-intake.service.js';
import { OUTCOME_LOG_LEVEL, outcomeOf, type WebhookOutcome } from './webhook-outcome.js';

/** The path Magic Hour posts to. */
export const WEBHOOK_PATH = '/webhook';

const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8', 'x-content-type-options': 'nosniff' };

/**
 * Whether a request's `Content-Type` lets its body be read as a webhook: JSON (`application/json` or
 * `application/*+json`) in UTF-8, or none at all. Magic Hour sends `application/json`; anything else
 * declares a body that is not an event, and is refused (415) before the body is read or verified.
 */
export function acceptsContentType(value: string | undefined): boolean {
  if (value === undefined || value === 'application/json') return true;
  const [mediaType, ...parameters] = value.split(';');
  const type = mediaType.trim().toLowerCase();
  if (type !== 'application/json' && !/^application\/[a-z0-9.!#$&^_-]+\+json$/.test(type)) return false;
  return parameters.every((parameter) => {
    const [name, raw = ''] = parameter.split('=', 2);
    if (name.trim().toLowerCase() !== 'charset') return true;
    return /^"?utf-8"?$/i.test(raw.trim());
  });
}

/** A request body that could not be read; answered with its status. */
class BodyError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * `POST /webhook`, served straight from Node's HTTP server ahead of Express and Nest's router.
 * Intake is the hot path: Nest's per-request pipeline alone costs more than storing the event, so this
 * handler does only what intake needs: read the raw body (with a limit), check the signature over
 * those exact bytes, and hand it to `WebhookIntakeService`, answering in the service's JSON shapes.
 * Every other request goes on to Nest as usual.
 *
 * Being outside Express, it does its own request id (`x-request-id`, as for every route), metrics
 * and one log line per delivery: debug when stored or a duplicate (so the default level writes
 * nothing on the hot path), info when ignored, warn when quarantined, refused or not stored (503),
 * error with the stack on a 500.
 */
@Injectable()
export class WebhookHttpHandler {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly signatures: SignatureGuard,
    private readonly intake: WebhookIntakeService,
    private readonly metrics: MetricsService,
    private readonly log: PinoLogger,
  ) {
    log.setContext(WebhookHttpHandler.name);
  }

  /** Whether this handler serves the request; if so it answers it. */
  handles(request: IncomingMessage): boolean {
    const url = request.url ?? '';
    const path = url.length === WEBHOOK_PATH.length ? url : url.split('?', 1)[0].replace(/\/+$/, '');
    return path === WEBHOOK_PATH && request.method === 'POST';
  }

  /** Answers a `POST /webhook`; never throws. */
  async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const started = performance.now();
    const requestId = assignRequestId(request, response);
    const trace: IntakeTrace = {};
    let status = 200;
    let body: object;
    let outcome: WebhookOutcome;
    let failure: unknown;
    let stale = false;
    try {
      const raw = await this.readBody(request);
      const check = this.signatures.check(request.headersDistinct, raw);
      if (check.stale) {
        // Answered 401 either way; counted `stale` only when it was recorded, `rejected` when it could not be.
        await this.intake.holdStale(raw, check.stale.signedAt, trace).then(
          () => (stale = true),
          (error: unknown) => this.log.error({ reqId: requestId, err: error }, `Could not record a stale webhook: ${(error as Error).message}`),
        );
        throw check.stale.refusal;
      }
      const result = await this.intake.receive(raw, check.signed, trace);
      body = result;
      outcome = outcomeOf(result);
    } catch (error) {
      ({ status, body } = this.toAnswer(error));
      outcome = status >= 500 ? 'error' : stale ? 'stale' : 'rejected';
      failure = error;
    }
    if (!response.headersSent) {
      response.writeHead(status, JSON_HEADERS).end(JSON.stringify(body));
    }
    const seconds = (performance.now() - started) / 1000;
    this.metrics.recordWebhook(trace.type, outcome, seconds);
    const level = status === 500 ? 'error' : OUTCOME_LOG_LEVEL[outcome];
    if (this.log.logger.isLevelEnabled(level)) {
      this.log[level](
        {
          reqId: requestId,
          eventKey: trace.eventKey,
          outcome,
          status,
          responseTime: Math.round(seconds * 1000),
          ...(status === 200 ? {} : { remoteAddress: request.socket.remoteAddress }),
          ...(trace.problems ? { problems: trace.problems } : {}),
          ...(status === 500 ? { err: failure } : {}),
        },
        status === 200 ? `Webhook ${outcome}` : `Webhook ${outcome} (${status}): ${(body as { message?: unknown }).message}`,
      );
    }
  }

  private toAnswer(error: unknown): { status: number; body: object } {
    if (error instanceof BodyError) return { status: error.status, body: errorBody(error.status, error.message) };
    if (error instanceof HttpException) {
      const status = error.getStatus();
      return { status, body: errorBody(status, error.message) };
    }
    if (error instanceof InvalidWebhookError) return { status: 400, body: errorBody(400, error.message) };
    if (error instanceof StorageUnavailableError) return { status: 503, body: errorBody(503, error.message) };
    // Anything else is a bug: answered without detail, logged with its stack by `handle`.
    return { status: 500, body: errorBody(500, 'Internal server error') };
  }

  /** Reads the raw body, refusing one over the limit as soon as that is known (413). */
  private readBody(request: IncomingMessage): Promise<Buffer> {
    const limit = this.config.webhookBodyLimitBytes;
    const contentTypes = request.headersDistinct['content-type'];
    if (contentTypes !== undefined && contentTypes.length > 1) {
      request.resume();
      return Promise.reject(new BodyError(400, 'Content-Type header sent more than once'));
    }
    if (!acceptsContentType(contentTypes?.[0])) {
      request.resume();
      return Promise.reject(new BodyError(415, 'Unsupported content type: send application/json'));
    }
    const encoding = request.headers['content-encoding'];
    if (encoding !== undefined && encoding !== 'identity') {
      request.resume();
      return Promise.reject(new BodyError(415, `Unsupported content encoding: ${encoding}`));
    }
    const declared = Number(request.headers['content-length']);
    if (declared > limit) {
      request.resume();
      return Promise.reject(new BodyError(413, `Request body is larger than ${limit} bytes`));
    }
    return new Promise<Buffer>((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      request.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > limit) {
          request.removeAllListeners('data');
          request.resume();
          reject(new BodyError(413, `Request body is larger than ${limit} bytes`));
          return;
        }
        chunks.push(chunk);
      });
      request.on('end', () => resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size)));
      request.on('error', () => reject(new BodyError(400, 'Could not read the request body')));
    });
  }
}
