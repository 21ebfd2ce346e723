import { asError } from '../common/domain.errors.js';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { PinoLogger } from '../logging/pino-logger.js';
import { APP_CONFIG, type AppConfig } from '../config/app.config.js';
import type { JobResponse } from '../jobs/dto/job.response.js';
import { WebhookEventRepository } from '../webhook/webhook-event.repository.js';
import { JobsService } from '../jobs/jobs.service.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { actionOf, isJobEventType } from '../magic-hour/magic-hour-event.types.js';
import { HandlerRunRepository } from './handler-run.repository.js';
import { MagicHourHandlerRegistry, type RegisteredHandler } from './handler-registry.js';
import { PermanentHandlerError, type HandlerContext, type MagicHourEvent } from './magic-hour-event.js';

/** A handler run that did not succeed. */
export interface FailedRun {
  handler: string;
  error: Error;
  /** The handler said retrying cannot help, or it has had its last attempt. */
  dead: boolean;
}

/** Thrown into a handler's `signal` (and its run) when its timeout passes. */
export class HandlerTimeoutError extends Error {
  override readonly name = 'HandlerTimeoutError';
}

/**
 * Runs an event's handlers that have not succeeded yet, each with its own timeout, and records each
 * run. It never runs in the HTTP request: the handler queue's processor calls it after the event was
 * applied to its job and committed.
 */
@Injectable()
export class HandlerRunner {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly registry: MagicHourHandlerRegistry,
    private readonly runs: HandlerRunRepository,
    private readonly events: WebhookEventRepository,
    private readonly jobs: JobsService,
    private readonly metrics: MetricsService,
    private readonly log: PinoLogger,
  ) {}

  /** The handler names events of `type` run. */
  handlerNamesFor(type: string): string[] {
    return this.registry.handlersFor(type).map((handler) => handler.name);
  }

  /**
   * Runs the event's pending and failed handlers (concurrently). A failure on the last attempt, or a
   * `PermanentHandlerError`, is a dead letter. Returns the runs that did not succeed.
   */
  async runPending(eventId: string, attempt: number, maxAttempts: number): Promise<FailedRun[]> {
    const event = await this.events.findForHandlers(eventId);
    if (!event || !isJobEventType(event.type)) return [];
    // The lease outlasts the run's timeout, so a live run is never claimed twice.
    const open = new Set(await this.runs.claim(eventId, this.config.handlerTimeoutMs * 2 + 10_000));
    const handlers = [...open].map((name) => this.registry.byName(name)).filter((h): h is RegisteredHandler => !!h);
    const missing = [...open].filter((name) => !this.registry.byName(name));
    if (handlers.length === 0 && missing.length === 0) return [];

    const job = await this.jobs.get(event.project_id);
    const typed: MagicHourEvent = {
      id: event.id,
      type: event.type,
      media: event.media,
      action: actionOf(event.type),
      projectId: event.project_id,
      payload: event.payload,
      receivedAt: event.received_at,
      source: event.source,
    } as MagicHourEvent;

    const failed: FailedRun[] = [];
    for (const name of missing) {
      // A handler removed since the run was scheduled: nothing can run it.
      const error = new Error(`Handler ${name} is no longer registered`);
      await this.runs.finish(eventId, name, { status: 'dead', error: error.message, durationMs: 0 });
      this.metrics.recordHandlerFailure(name, true);
      failed.push({ handler: name, error, dead: true });
    }
    // Every line a handler logs (through any Nest Logger) carries the event, its job and the handler.
    const bindings = { eventId, eventKey: `${event.type}:${event.project_id}`, jobId: event.project_id, attempt };
    await Promise.all(
      handlers.map(async (handler) => {
        const outcome = await this.log.runInContext(() => this.runOne(handler, typed, job, attempt, maxAttempts), {
          bindings: { ...bindings, handler: handler.name },
        });
        if (outcome) failed.push(outcome);
      }),
    );
    return failed;
  }

  private async runOne(
    handler: RegisteredHandler,
    event: MagicHourEvent,
    job: JobResponse,
    attempt: number,
    maxAttempts: number,
  ): Promise<FailedRun | null> {
    const controller = new AbortController();
    const timeoutMs = this.config.handlerTimeoutMs;
    const context: HandlerContext = {
      handler: handler.name,
      attempt,
      maxAttempts,
      logger: new Logger(handler.name),
      signal: controller.signal,
    };
    const started = performance.now();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const error = new HandlerTimeoutError(`${handler.name} timed out after ${timeoutMs} ms`);
        controller.abort(error);
        reject(error);
      }, timeoutMs);
    });
    try {
      await Promise.race([Promise.resolve().then(() => handler.invoke(event, job, context)), timedOut]);
      await this.runs.finish(event.id, handler.name, { status: 'succeeded', error: null, durationMs: performance.now() - started });
      return null;
    } catch (thrown) {
      const error = asError(thrown);
      const dead = error instanceof PermanentHandlerError || attempt >= maxAttempts;
      this.metrics.recordHandlerFailure(handler.name, dead);
      context.logger.warn(
        `Event ${event.id} (${event.type}), attempt ${attempt}/${maxAttempts}${dead ? ', dead letter' : ''}: ${error.message}`,
      );
      await this.runs.finish(event.id, handler.name, {
        status: dead ? 'dead' : 'failed',
        error: `${error.name}: ${error.message}`,
        durationMs: performance.now() - started,
      });
      return { handler: handler.name, error, dead };
    } finally {
      clearTimeout(timer);
    }
  }
}
