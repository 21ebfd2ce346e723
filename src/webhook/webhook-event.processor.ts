import { Process, Processor } from '@nestjs/bull';
import type { Job } from 'bull';
import { PinoLogger } from '../logging/pino-logger.js';
import { HandlerRunRepository } from '../handlers/handler-run.repository.js';
import { HandlerRunner } from '../handlers/handler-runner.service.js';
import type { AfterApply, AppliedEvent, ApplyResult } from '../jobs/job.repository.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { HandlerRunQueue } from './handler-run.queue.js';
import type { Media } from './magic-hour-event.types.js';
import { AudioEventService } from './media/audio-event.service.js';
import { ImageEventService } from './media/image-event.service.js';
import type { MediaEventHandler } from './media/media-event.service.js';
import { VideoEventService } from './media/video-event.service.js';
import { WebhookEventRepository } from './webhook-event.repository.js';
import { WEBHOOK_QUEUE, WORKER_CONCURRENCY, type WebhookJobData } from './webhook.constants.js';

/** What one queue job did, as Bull records it for a completed job. */
export interface ProcessSummary {
  applied: number;
  skipped: number;
}

/** Thrown when some events of a queue job failed, so that Bull retries the job (only those re-run). */
export class EventsFailedError extends Error {
  constructor(failed: ApplyResult['failed'], total: number) {
    super(`${failed.length} of ${total} event(s) failed; first: ${failed[0].error.message}`);
  }
}

/**
 * The queue's one consumer: hands each job's events to their media's service. Failed events are
 * recorded and the job rethrown so that Bull retries it with backoff; on a retry the events already
 * processed are skipped, so only the failed ones run again. After the last attempt they are `failed`.
 */
@Processor(WEBHOOK_QUEUE)
export class WebhookEventProcessor {
  private readonly services = new Map<Media, MediaEventHandler>();

  constructor(
    video: VideoEventService,
    image: ImageEventService,
    audio: AudioEventService,
    private readonly events: WebhookEventRepository,
    private readonly handlers: HandlerRunner,
    private readonly handlerRuns: HandlerRunRepository,
    private readonly handlerQueue: HandlerRunQueue,
    private readonly metrics: MetricsService,
    private readonly log: PinoLogger,
  ) {
    for (const service of [video, image, audio]) this.services.set(service.media, service);
    log.setContext(WebhookEventProcessor.name);
  }

  /** Every line logged while a queue job runs carries its id (`queueJob`). */
  @Process({ concurrency: WORKER_CONCURRENCY })
  process(job: Job<WebhookJobData>): Promise<ProcessSummary> {
    return this.log.runInContext(() => this.apply(job), { bindings: { queueJob: job.id } });
  }

  private async apply(job: Job<WebhookJobData>): Promise<ProcessSummary> {
    const byMedia = new Map<Media, string[]>();
    for (const { eventId, media } of job.data.events) {
      byMedia.set(media, [...(byMedia.get(media) ?? []), eventId]);
    }
    // Handler runs are created in the transaction that applies their event, then queued.
    const withHandlers = new Set<string>();
    // What the transactions applied, for the metrics and logs once they committed. (A batch that rolls
    // back is applied again event by event, which records the same ids again.)
    const appliedNow = new Map<string, AppliedEvent>();
    const afterApply: AfterApply = async (manager, applied) => {
      const runs = applied.flatMap((event) =>
        this.handlers.handlerNamesFor(event.type).map((handler) => ({ eventId: event.id, handler })),
      );
      await this.handlerRuns.createPending(manager, runs);
      for (const run of runs) withHandlers.add(run.eventId);
      for (const event of applied) appliedNow.set(event.id, event);
    };
    const results = await Promise.all(
      [...byMedia].map(([media, eventIds]) => {
        const service = this.services.get(media);
        if (!service) {
          const error = new Error(`No service processes ${media} events`);
          return { applied: 0, skipped: 0, failed: eventIds.map((eventId) => ({ eventId, error })) };
        }
        return service.process(eventIds, afterApply);
      }),
    );
    await this.queueHandlers([...withHandlers]);
    const summary = { applied: 0, skipped: 0 };
    const failed: ApplyResult['failed'] = [];
    for (const result of results) {
      summary.applied += result.applied;
      summary.skipped += result.skipped;
      failed.push(...result.failed);
    }
    this.recordApplied(appliedNow, new Set(failed.map((failure) => failure.eventId)));
    if (failed.length === 0) return summary;

    const attempt = job.attemptsMade + 1;
    const final = attempt >= (job.opts.attempts ?? 1);
    const mediaOf = new Map(job.data.events.map((event) => [event.eventId, event.media]));
    for (const { eventId, error } of failed) {
      const media = mediaOf.get(eventId);
      if (media) this.metrics.recordProcessingFailure(media);
      const stored = await this.events.recordFailure(eventId, error.message, final).catch(() => null);
      this.log.error(
        { eventId, eventKey: stored?.eventKey, jobId: stored?.projectId, attempt, final, err: error },
        `Event ${stored?.eventKey ?? eventId} failed (attempt ${attempt}${final ? ', last' : ''}): ${error.message}`,
      );
    }
    throw new EventsFailedError(failed, job.data.events.length);
  }

  /** Processing latency (arrival to applied, committed) and a debug line per event applied. */
  private recordApplied(applied: ReadonlyMap<string, AppliedEvent>, failed: ReadonlySet<string>): void {
    const now = Date.now();
    const debug = this.log.logger.isLevelEnabled('debug');
    for (const event of applied.values()) {
      if (failed.has(event.id)) continue;
      const seconds = (now - event.receivedAt.getTime()) / 1000;
      this.metrics.recordProcessed(event.media, seconds);
      if (debug) {
        const eventKey = `${event.type}:${event.projectId}`;
        this.log.debug({ eventId: event.id, eventKey, jobId: event.projectId, latencyMs: Math.round(seconds * 1000) }, `Event ${eventKey} applied`);
      }
    }
  }

  /** Best effort: what does not reach Redis now, the relay queues later. */
  private async queueHandlers(eventIds: string[]): Promise<void> {
    if (eventIds.length === 0) return;
    // A run whose transaction rolled back after the hook has no row; its queue job will find nothing.
    if (await this.handlerQueue.enqueue(eventIds)) {
      await this.handlerRuns.markEnqueued(eventIds).catch(() => undefined);
    }
  }
}
