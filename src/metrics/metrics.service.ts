import { Injectable, OnModuleDestroy } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';
import { API_CALL_OUTCOMES } from '../magic-hour/magic-hour-api.client.js';
import { EVENT_TYPES, MEDIA, isKnownEventType, type Media } from '../magic-hour/magic-hour-event.types.js';

/**
 * What became of one delivery to `POST /webhook`: the `outcome` of its metric and its log line.
 * `rejected` is a 4xx (signature, body, encoding, size), `stale` a 401 for an authentic delivery signed
 * outside the tolerance (recorded, not processed), `error` a 5xx (the event could not be stored),
 * `aborted` a delivery whose client closed the connection before it was answered.
 * To add an outcome, add it here and to `outcomeOf`; the typecheck then asks for its log level.
 */
export const WEBHOOK_OUTCOMES = ['stored', 'duplicate', 'quarantined', 'ignored', 'rejected', 'stale', 'error', 'aborted'] as const;
export type WebhookOutcome = (typeof WEBHOOK_OUTCOMES)[number];

/** The `type` label of a delivery whose type is well-formed but not one of the nine. */
export const OTHER_TYPE = 'other';
/** The `type` label of a delivery that was not read as an event (refused before, or no type in it). */
export const UNKNOWN_TYPE = 'unknown';

/**
 * An event type as a label value. Only the nine known types are labels of their own: the type comes
 * from the request body, and a label per value sent would let a sender grow the metrics without end.
 */
export function typeLabel(type: string | undefined): string {
  if (type === undefined || type === UNKNOWN_TYPE) return UNKNOWN_TYPE;
  return isKnownEventType(type) ? type : OTHER_TYPE;
}

const INTAKE_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
// From arrival to applied: milliseconds normally, minutes while a backlog drains or a batch is retried.
const PROCESSING_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600];

type Child = { inc(value?: number): void };
type Observer = { observe(value: number): void };

/**
 * The service's Prometheus metrics, in a registry of this app's own (never prom-client's global one,
 * so that several apps in one process, as in the tests, do not clash), with Node's process metrics.
 * Every label combination the hot path uses is bound once here (prom-client's label children), so
 * recording is a map lookup and prom-client's own update; each series starts at zero.
 */
@Injectable()
export class MetricsService implements OnModuleDestroy {
  readonly registry = new Registry();

  private readonly webhookEvents = new Map<string, Record<WebhookOutcome, Child>>();
  private readonly intakeSeconds = {} as Record<WebhookOutcome, Observer>;
  private readonly processingSeconds = {} as Record<Media, Observer>;
  private readonly processingFailures = {} as Record<Media, Child>;
  private readonly handlerFailures: Counter<'handler'>;
  private readonly handlerDeadLetters: Counter<'handler'>;
  private readonly conflicts: Child;
  private readonly apiCalls = new Map<string, Child>();

  constructor() {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });

    const events = new Counter({
      name: 'magic_hour_webhook_events_total',
      help: 'Deliveries to POST /webhook by event type and outcome (stored, duplicate, quarantined, ignored, rejected: 4xx, stale: 401 but recorded, error: 5xx, aborted: the client left before the answer)',
      labelNames: ['type', 'outcome'] as const,
      registers,
    });
    for (const type of [...EVENT_TYPES, OTHER_TYPE, UNKNOWN_TYPE]) {
      const byOutcome = {} as Record<WebhookOutcome, Child>;
      for (const outcome of WEBHOOK_OUTCOMES) {
        byOutcome[outcome] = events.labels({ type, outcome });
        byOutcome[outcome].inc(0); // every series from zero, so that rate() sees the first delivery
      }
      this.webhookEvents.set(type, byOutcome);
    }

    this.conflicts = new Counter({
      name: 'magic_hour_webhook_conflicts_total',
      help: 'Redeliveries whose body differed from the stored event of their key (kept in webhook_event_conflicts)',
      registers,
    }).labels();
    this.conflicts.inc(0);

    const intake = new Histogram({
      name: 'magic_hour_webhook_intake_duration_seconds',
      help: 'Time to handle one POST /webhook, from its arrival to its answer (body, signature, storage), by outcome',
      labelNames: ['outcome'] as const,
      buckets: INTAKE_BUCKETS,
      registers,
    });
    for (const outcome of WEBHOOK_OUTCOMES) {
      this.intakeSeconds[outcome] = intake.labels({ outcome });
      intake.zero({ outcome });
    }

    const processing = new Histogram({
      name: 'magic_hour_event_processing_latency_seconds',
      help: "Time from an event's arrival (received_at) to its being applied to its job (committed by the worker), by media",
      labelNames: ['media'] as const,
      buckets: PROCESSING_BUCKETS,
      registers,
    });
    const failures = new Counter({
      name: 'magic_hour_event_processing_failures_total',
      help: 'Failed attempts to apply an event to its job (each is retried; the last one leaves the event failed), by media',
      labelNames: ['media'] as const,
      registers,
    });
    for (const media of MEDIA) {
      this.processingSeconds[media] = processing.labels({ media });
      processing.zero({ media });
      this.processingFailures[media] = failures.labels({ media });
      this.processingFailures[media].inc(0);
    }

    const apiCalls = new Counter({
      name: 'magic_hour_api_calls_total',
      help: "Calls to Magic Hour's API by the reconciler, by outcome (answered, not_found, unauthorized, payment_required, rate_limited, server_error, timeout, unreadable, network_error, http_error)",
      labelNames: ['outcome'] as const,
      registers,
    });
    for (const outcome of API_CALL_OUTCOMES) {
      const child = apiCalls.labels({ outcome });
      child.inc(0);
      this.apiCalls.set(outcome, child);
    }

    this.handlerFailures = new Counter({
      name: 'magic_hour_handler_failures_total',
      help: 'Handler runs that threw or timed out, by handler (ClassName.method); each is retried until its last attempt',
      labelNames: ['handler'] as const,
      registers,
    });
    this.handlerDeadLetters = new Counter({
      name: 'magic_hour_handler_dead_letters_total',
      help: 'Handler runs that became dead letters (last attempt failed, or a PermanentHandlerError), by handler',
      labelNames: ['handler'] as const,
      registers,
    });
  }

  /** Counts one delivery to `POST /webhook` and how long it took. */
  recordWebhook(type: string | undefined, outcome: WebhookOutcome, seconds: number): void {
    // A known type is its own key; anything else is looked up by its label.
    const byOutcome = (type !== undefined && this.webhookEvents.get(type)) || this.webhookEvents.get(typeLabel(type))!;
    byOutcome[outcome].inc();
    this.intakeSeconds[outcome].observe(seconds);
  }

  /** A redelivery whose body differed from the stored event of its key. */
  recordConflict(): void {
    this.conflicts.inc();
  }

  /** An event applied to its job, `seconds` after it arrived. */
  recordProcessed(media: Media, seconds: number): void {
    this.processingSeconds[media]?.observe(Math.max(0, seconds));
  }

  /** An attempt to apply an event that failed. */
  recordProcessingFailure(media: Media): void {
    this.processingFailures[media]?.inc();
  }

  /** A handler run that failed; `dead` when it will not be retried. */
  recordHandlerFailure(handler: string, dead: boolean): void {
    this.handlerFailures.labels({ handler }).inc();
    if (dead) this.handlerDeadLetters.labels({ handler }).inc();
  }

  /** A call to Magic Hour's API and its outcome (`outcomeOf`). */
  recordApiCall(outcome: string): void {
    this.apiCalls.get(outcome)?.inc();
  }

  /** The metrics in Prometheus's text format. */
  scrape(): Promise<string> {
    return this.registry.metrics();
  }

  onModuleDestroy(): void {
    this.registry.clear();
  }
}
