import { Injectable } from '@nestjs/common';
import { InjectMagicHourDataSource } from '../database/magic-hour-data-source.js';
import { PinoLogger } from '../logging/pino-logger.js';
import type { DataSource } from 'typeorm';
import { asError } from '../common/domain.errors.js';
import { HandlerRunRepository } from '../handlers/handler-run.repository.js';
import { HandlerRunner } from '../handlers/handler-runner.service.js';
import { JobRepository } from '../jobs/job.repository.js';
import { applyEvent, type JobState } from '../jobs/job-transition.js';
import { MetricsService } from '../metrics/metrics.service.js';
import type { ProjectPayloadDto } from '../magic-hour/dto/project-payload.dto.js';
import { HandlerRunQueue } from '../queue/handler-run.queue.js';
import { actionOf, isJobEventType, type Media } from '../magic-hour/magic-hour-event.types.js';
import { AudioEventService } from './media/audio-event.service.js';
import { ImageEventService } from './media/image-event.service.js';
import type { MediaEventMapper, StoredPayload } from './media/media-event.service.js';
import { VideoEventService } from './media/video-event.service.js';
import { WebhookEventRepository, type EventRow } from '../webhook/webhook-event.repository.js';
import type { QueuedEvent } from '../queue/queue.constants.js';

/** Which attempt at a batch this is, as the queue counts them. */
export interface ProcessingAttempt {
  /** 1 for the first attempt. */
  number: number;
  /** No attempt follows this one: an event that fails now is `failed` for good. */
  final: boolean;
}

/** What one batch did, as Bull records it for a completed job. */
export interface ProcessSummary {
  applied: number;
  skipped: number;
}

/** An event of a batch that could not be applied, and why. */
export interface FailedEvent {
  eventId: string;
  error: Error;
}

/** An event that can never be applied to a job (a type or media nothing processes): retrying cannot help. */
export class UnprocessableEventError extends Error {
  override readonly name = 'UnprocessableEventError';
}

/** Why an event whose project id is already a job of another media is not applied to it. */
const mediaClash = (projectId: string, jobMedia: Media, eventType: string): UnprocessableEventError =>
  new UnprocessableEventError(
    `Project ${projectId} is already a job for ${jobMedia}: this ${eventType} event is kept but not applied, so that two projects are not mixed`,
  );

/**
 * Thrown when some events of a batch failed, after each was recorded on its event. `retryable` is
 * false when no later attempt can apply any of them: this attempt was the last, or every failure is
 * an `UnprocessableEventError`.
 */
export class EventsFailedError extends Error {
  override readonly name = 'EventsFailedError';

  constructor(
    readonly failed: readonly FailedEvent[],
    total: number,
    readonly retryable: boolean,
  ) {
    super(`${failed.length} of ${total} event(s) failed; first: ${failed[0].error.message}`);
  }
}

/** An event that a committed transaction applied to its job. */
interface CommittedEvent {
  id: string;
  type: string;
  media: Media;
  projectId: string;
  receivedAt: Date;
}

/** What one committed transaction did. */
interface Committed {
  applied: CommittedEvent[];
  /** The applied events that have handler runs to queue. */
  withHandlers: string[];
  /** Events not applied because their project id is a job of another media. */
  clashes: FailedEvent[];
}

/** What applying one media's events of a batch did. */
interface MediaOutcome extends Committed {
  /** Events already processed, or not stored: nothing to do. */
  skipped: number;
  failed: FailedEvent[];
}

/**
 * Applies stored events to their jobs. It owns the transaction: it locks the events, reads each
 * payload through its media's mapper, applies the transition rule, writes the jobs, marks the events
 * processed and creates their handler runs, all committed together. Then it queues the handler runs
 * and records metrics; a failure is recorded on its event and thrown as `EventsFailedError`.
 */
@Injectable()
export class EventProcessingService {
  private readonly mappers: ReadonlyMap<Media, MediaEventMapper>;

  constructor(
    video: VideoEventService,
    image: ImageEventService,
    audio: AudioEventService,
    @InjectMagicHourDataSource() private readonly dataSource: DataSource,
    private readonly events: WebhookEventRepository,
    private readonly jobs: JobRepository,
    private readonly handlerRuns: HandlerRunRepository,
    private readonly handlers: HandlerRunner,
    private readonly handlerQueue: HandlerRunQueue,
    private readonly metrics: MetricsService,
    private readonly log: PinoLogger,
  ) {
    this.mappers = new Map<Media, MediaEventMapper>([video, image, audio].map((mapper) => [mapper.media, mapper]));
    log.setContext(EventProcessingService.name);
  }

  /**
   * Applies a batch (one queue job's events), each event once: one transaction per media. Should
   * one fail, each of its events is tried in a transaction of its own, so one bad event cannot hold
   * back the rest. Events already processed, or not stored, are skipped.
   *
   * @throws EventsFailedError when any event failed; each failure is recorded on its event first
   */
  async process(batch: readonly QueuedEvent[], attempt: ProcessingAttempt): Promise<ProcessSummary> {
    const byMedia = new Map<Media, string[]>();
    for (const { eventId, media } of batch) {
      byMedia.set(media, [...(byMedia.get(media) ?? []), eventId]);
    }
    const outcomes = await Promise.all([...byMedia].map(([media, eventIds]) => this.applyMedia(media, eventIds)));

    const applied = outcomes.flatMap((outcome) => outcome.applied);
    await this.queueHandlers(outcomes.flatMap((outcome) => outcome.withHandlers));
    this.recordApplied(applied);
    const summary: ProcessSummary = {
      applied: applied.length,
      skipped: outcomes.reduce((sum, outcome) => sum + outcome.skipped, 0),
    };
    const failed = outcomes.flatMap((outcome) => outcome.failed);
    if (failed.length === 0) return summary;

    const mediaOf = new Map(batch.map((event) => [event.eventId, event.media]));
    let retryable = false;
    for (const { eventId, error } of failed) {
      const final = attempt.final || error instanceof UnprocessableEventError;
      retryable ||= !final;
      const media = mediaOf.get(eventId);
      if (media) this.metrics.recordProcessingFailure(media);
      // The batch is thrown whether or not this record is written; the next attempt records again.
      const stored = await this.events.recordFailure(eventId, error.message, final).catch(() => null);
      this.log.error(
        { eventId, eventKey: stored?.eventKey, jobId: stored?.projectId, attempt: attempt.number, final, err: error },
        `Event ${stored?.eventKey ?? eventId} failed (attempt ${attempt.number}${final ? ', last' : ''}): ${error.message}`,
      );
    }
    throw new EventsFailedError(failed, batch.length, retryable);
  }

  /** One media's events of a batch: in one transaction, or, should it fail, one transaction each. */
  private async applyMedia(media: Media, eventIds: readonly string[]): Promise<MediaOutcome> {
    const mapper = this.mappers.get(media);
    if (!mapper) {
      const error = new UnprocessableEventError(`No service processes ${media} events`);
      return { applied: [], withHandlers: [], clashes: [], skipped: 0, failed: eventIds.map((eventId) => ({ eventId, error })) };
    }
    try {
      const committed = await this.applyInTransaction(eventIds, mapper);
      const settled = committed.applied.length + committed.clashes.length;
      return { ...committed, skipped: eventIds.length - settled, failed: committed.clashes };
    } catch (error) {
      if (eventIds.length === 1) {
        return { applied: [], withHandlers: [], clashes: [], skipped: 0, failed: [{ eventId: eventIds[0], error: asError(error) }] };
      }
    }
    const outcome: MediaOutcome = { applied: [], withHandlers: [], clashes: [], skipped: 0, failed: [] };
    for (const eventId of eventIds) {
      try {
        const committed = await this.applyInTransaction([eventId], mapper);
        outcome.applied.push(...committed.applied);
        outcome.withHandlers.push(...committed.withHandlers);
        outcome.failed.push(...committed.clashes);
        outcome.skipped += 1 - committed.applied.length - committed.clashes.length;
      } catch (error) {
        outcome.failed.push({ eventId, error: asError(error) });
      }
    }
    return outcome;
  }

  /**
   * One transaction: lock the events still to apply (in id order), create or lock their jobs (in id
   * order, so concurrent batches cannot deadlock), apply each job's events in arrival order, write the
   * jobs, mark the events processed and create their pending handler runs, so that a run exists
   * exactly when its event was applied. An event whose project id is already a job of another media
   * is left unapplied and returned as a clash: one id is one job, and two projects are never mixed.
   */
  private applyInTransaction(eventIds: readonly string[], mapper: MediaEventMapper): Promise<Committed> {
    return this.dataSource.transaction(async (manager) => {
      const events = await this.events.lockUnapplied(manager, eventIds);
      if (events.length === 0) return { applied: [], withHandlers: [], clashes: [] };
      const unapplied = events.map((event) => {
        if (!isJobEventType(event.type)) {
          throw new UnprocessableEventError(`Event ${event.id} has type ${event.type}, which cannot be applied to a job`);
        }
        return { ...event, action: actionOf(event.type) };
      });
      unapplied.sort((a, b) => a.received_at.getTime() - b.received_at.getTime() || a.id.localeCompare(b.id));

      // A new job starts from its first event; an existing one is locked as it is.
      const firstEventOf = new Map<string, EventRow>();
      for (const event of unapplied) if (!firstEventOf.has(event.project_id)) firstEventOf.set(event.project_id, event);
      const jobs = await this.jobs.createOrLock(
        manager,
        [...firstEventOf.values()].map((event) => ({ id: event.project_id, media: event.media, createdAt: event.received_at })),
      );
      // A locked job of another media stays as it is (and is not written).
      const clashes: FailedEvent[] = [];
      const clashing = new Set<string>();
      const known = unapplied.filter((event) => {
        const job = jobs.get(event.project_id);
        if (!job || job.media === event.media) return true;
        clashes.push({ eventId: event.id, error: mediaClash(event.project_id, job.media, event.type) });
        clashing.add(event.project_id);
        return false;
      });
      for (const event of known) {
        const next = applyEvent(
          jobs.get(event.project_id) ?? null,
          { projectId: event.project_id, media: event.media, action: event.action, receivedAt: event.received_at },
          mapper.snapshot(event.payload as StoredPayload<ProjectPayloadDto>),
        );
        jobs.set(event.project_id, next);
      }
      await this.jobs.saveStates(
        manager,
        [...jobs.values()].filter((job): job is JobState => job !== null && !clashing.has(job.id)),
      );
      await this.events.markProcessed(
        manager,
        known.map((event) => event.id),
      );
      const runs = known.flatMap((event) => this.handlers.handlerNamesFor(event.type).map((handler) => ({ eventId: event.id, handler })));
      await this.handlerRuns.createPending(manager, runs);
      return {
        applied: known.map((event) => ({
          id: event.id,
          type: event.type,
          media: event.media,
          projectId: event.project_id,
          receivedAt: event.received_at,
        })),
        withHandlers: [...new Set(runs.map((run) => run.eventId))],
        clashes,
      };
    });
  }

  /** Processing latency (arrival to applied, committed) and a debug line per event applied. */
  private recordApplied(applied: readonly CommittedEvent[]): void {
    const now = Date.now();
    const debug = this.log.logger.isLevelEnabled('debug');
    for (const event of applied) {
      const seconds = (now - event.receivedAt.getTime()) / 1000;
      this.metrics.recordProcessed(event.media, seconds);
      if (debug) {
        const eventKey = `${event.type}:${event.projectId}`;
        this.log.debug(
          { eventId: event.id, eventKey, jobId: event.projectId, latencyMs: Math.round(seconds * 1000) },
          `Event ${eventKey} applied`,
        );
      }
    }
  }

  /** Best effort: what does not reach Redis now, or is not marked queued, the relay queues later. */
  private async queueHandlers(eventIds: readonly string[]): Promise<void> {
    if (eventIds.length === 0) return;
    if (await this.handlerQueue.enqueue(eventIds)) {
      await this.handlerRuns.markEnqueued(eventIds).catch((error: unknown) => {
        // Left unmarked, the runs are queued again by the relay; their claim keeps that harmless.
        this.log.warn({ err: asError(error) }, `Could not mark the handler runs of ${eventIds.length} event(s) queued`);
      });
    }
  }
}
