import { DEFAULT_PAGE_SIZE } from '../common/page.query.js';
import { Injectable } from '@nestjs/common';
import { ConflictError, EventNotFoundError, InvalidRequestError, StillInvalidError } from '../common/domain.errors.js';
import { decodeKeysetCursor, encodeKeysetCursor } from '../common/keyset-cursor.js';
import { HandlerRunRepository, type HandlerRun } from '../handlers/handler-run.repository.js';
import { MagicHourHandlerRegistry } from '../handlers/handler-registry.js';
import type { Media } from '../magic-hour/magic-hour-event.types.js';
import { HandlerRunQueue } from '../queue/handler-run.queue.js';
import { WebhookEventParser } from '../webhook/webhook-event.parser.js';
import {
  WebhookEventRepository,
  type EventConflictRecord,
  type EventFilter,
  type StoredEvent,
} from '../webhook/webhook-event.repository.js';
import { WebhookEventQueue } from '../queue/webhook-event.queue.js';
import type { BulkReplayResponse, EventPageResponse, EventResponse, ReplayResponse } from './dto/event.response.js';

/** Most events one bulk replay takes. */
export const BULK_REPLAY_MAX = 1000;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const toResponse = (event: StoredEvent, runs?: HandlerRun[], conflicts?: EventConflictRecord[]): EventResponse => ({
  id: event.id,
  eventKey: event.eventKey,
  type: event.type,
  media: event.media,
  jobId: event.jobId,
  status: event.status,
  attempts: event.attempts,
  lastError: event.lastError,
  receivedAt: event.receivedAt.toISOString(),
  processedAt: event.processedAt?.toISOString() ?? null,
  source: event.source,
  staleSignedAt: event.staleSignedAt?.toISOString() ?? null,
  conflictCount: event.conflictCount,
  ...(runs
    ? {
        payload: event.payload,
        conflicts: (conflicts ?? []).map((conflict) => ({
          payload: conflict.payload,
          deliveries: conflict.deliveries,
          firstReceivedAt: conflict.firstReceivedAt.toISOString(),
          lastReceivedAt: conflict.lastReceivedAt.toISOString(),
        })),
        handlerRuns: runs.map((run) => ({
          handler: run.handler,
          status: run.status,
          attempts: run.attempts,
          lastError: run.lastError,
          durationMs: run.durationMs,
          updatedAt: run.updatedAt.toISOString(),
        })),
      }
    : {}),
});

/** The stored body of a quarantined event, as bytes to validate again. */
function storedBody(payload: unknown): Buffer {
  if (typeof payload === 'string') {
    return payload.startsWith('base64:') ? Buffer.from(payload.slice(7), 'base64') : Buffer.from(payload, 'utf8');
  }
  return Buffer.from(JSON.stringify(payload), 'utf8');
}

/** The operator's view of the inbox: listing events and replaying what failed or was quarantined. */
@Injectable()
export class EventsService {
  constructor(
    private readonly events: WebhookEventRepository,
    private readonly runs: HandlerRunRepository,
    private readonly registry: MagicHourHandlerRegistry,
    private readonly parser: WebhookEventParser,
    private readonly queue: WebhookEventQueue,
    private readonly handlerQueue: HandlerRunQueue,
  ) {}

  async list(filter: EventFilter, limit = DEFAULT_PAGE_SIZE, cursor?: string): Promise<EventPageResponse> {
    const position = cursor === undefined ? undefined : decodeKeysetCursor(cursor, UUID);
    const rows = await this.events.list(filter, limit, position && { receivedAt: position.at, id: position.id });
    const page = rows.slice(0, limit);
    return {
      items: page.map((event) => toResponse(event)),
      nextCursor: rows.length > limit ? encodeKeysetCursor({ at: page[page.length - 1].receivedAt, id: page[page.length - 1].id }) : null,
    };
  }

  /** @throws EventNotFoundError */
  async get(id: string): Promise<EventResponse> {
    const event = await this.events.findById(id);
    if (!event) throw new EventNotFoundError(id);
    const [runs, conflicts] = await Promise.all([this.runs.forEvents([id]), this.events.conflictsOf(id)]);
    return toResponse(event, runs, conflicts);
  }

  /**
   * Replays one event. A failed event is processed again (or, when it was applied and a handler died,
   * its dead handlers run again); a quarantined one is validated again and processed if it now
   * passes; a stale one takes the status intake would have given it (and is processed if that is
   * `received`); `handler` runs that one handler of an applied event, whatever its last run did.
   * @throws EventNotFoundError, ConflictError (nothing to replay), StillInvalidError, InvalidRequestError
   */
  async replay(id: string, handler?: string): Promise<ReplayResponse> {
    const event = await this.events.findById(id);
    if (!event) throw new EventNotFoundError(id);

    if (handler !== undefined) {
      if (!this.registry.byName(handler)) throw new InvalidRequestError(`No handler named ${handler} is registered`);
      if (event.processedAt === null)
        throw new ConflictError(`Event ${id} has not been applied to its job yet; replay it without ?handler`);
      if ((await this.runs.reopen(id, handler)) === 0) throw new ConflictError(`${handler} is running for event ${id} now`);
      await this.handlerQueue.enqueue([id], { fresh: true });
      return { id, replayed: 'handlers', handlers: [handler] };
    }

    if (event.status === 'quarantined') return this.release(event);
    if (event.status === 'stale') return this.releaseStale(event);
    if (event.status !== 'failed') throw new ConflictError(`Event ${id} is ${event.status}: nothing to replay`);

    if (event.processedAt !== null) {
      // Applied, but a handler became a dead letter: run the dead handlers again.
      const handlers = (await this.runs.forEvents([id])).filter((run) => run.status === 'dead').map((run) => run.handler);
      // The event stays `failed` until its handlers succeed; the handler worker then marks it processed.
      await this.runs.reopen(id);
      await this.handlerQueue.enqueue([id], { fresh: true });
      return { id, replayed: 'handlers', handlers };
    }
    await this.events.moveStatus(id, 'failed', 'received');
    await this.processAgain(id, event.media as Media);
    return { id, replayed: 'processing' };
  }

  /** Replays every failed (or quarantined, or stale) event matching `filter`, up to `BULK_REPLAY_MAX`. */
  async replayMany(filter: EventFilter): Promise<BulkReplayResponse> {
    const status = filter.status ?? 'failed';
    if (status !== 'failed' && status !== 'quarantined' && status !== 'stale') {
      throw new InvalidRequestError('Only failed, quarantined or stale events can be replayed');
    }
    const ids = await this.events.idsMatching({ ...filter, status }, BULK_REPLAY_MAX);
    const errors: Array<{ id: string; message: string }> = [];
    for (const id of ids) {
      try {
        await this.replay(id);
      } catch (error) {
        errors.push({ id, message: (error as Error).message });
      }
    }
    return { matched: ids.length, replayed: ids.length - errors.length, errors };
  }

  private async releaseStale(event: StoredEvent): Promise<ReplayResponse> {
    const status = await this.events.releaseStale(event.id);
    if (status === null) throw new ConflictError(`Event ${event.id} is no longer stale: nothing to replay`);
    if (status !== 'received') return { id: event.id, replayed: status === 'ignored' ? 'ignored' : 'quarantined' };
    await this.processAgain(event.id, event.media as Media);
    return { id: event.id, replayed: 'processing' };
  }

  private async release(event: StoredEvent): Promise<ReplayResponse> {
    const parsed = await this.parser.parse(storedBody(event.payload));
    if (parsed.kind === 'invalid') {
      await this.events.setLastError(event.id, parsed.errors.join('; '));
      throw new StillInvalidError(parsed.errors);
    }
    const status = parsed.kind === 'valid' ? 'received' : 'ignored';
    const released = await this.events.release(event.id, {
      eventKey: parsed.eventKey,
      type: parsed.type,
      media: parsed.media,
      projectId: parsed.projectId,
      payloadJson: parsed.payloadJson,
      status,
    });
    if (!released) {
      const existing = await this.events.idOfKey(parsed.eventKey);
      throw new ConflictError(`Event ${parsed.eventKey} is stored already (as ${existing}); this copy stays quarantined`);
    }
    if (parsed.kind !== 'valid') return { id: event.id, replayed: 'ignored' };
    await this.processAgain(event.id, parsed.media);
    return { id: event.id, replayed: 'processing' };
  }

  /**
   * Queues a released event (now `received`, marked unqueued) and marks it queued once Redis took it,
   * so that the relay does not queue it a second time. If Redis does not take it, the relay will.
   */
  private async processAgain(eventId: string, media: Media): Promise<void> {
    if (await this.queue.enqueue([{ eventId, media }], { fresh: true })) await this.events.markReplayEnqueued(eventId);
  }
}
