import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';
import type { EventSource, EventStatus, Media } from '../../magic-hour/magic-hour-event.types.js';

/** One webhook delivery that passed the signature check: the inbox row, source of truth for processing. */
// The schema comes from the migrations alone: a host app's `synchronize` or `migration:generate` must
// not alter this table (the entity does not describe its indexes, checks or defaults).
@Entity({ name: 'webhook_events', synchronize: false })
export class WebhookEventEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  /** `{type}:{payload.id}`, or `quarantine:{sha256 of the body}` when the body has neither. */
  @Column({ name: 'event_key', type: 'text', unique: true })
  eventKey!: string;

  @Column({ type: 'text' })
  type!: string;

  @Column({ type: 'text' })
  media!: Media | 'unknown';

  @Column({ name: 'project_id', type: 'text', nullable: true })
  projectId!: string | null;

  @Column({ type: 'text' })
  status!: EventStatus;

  @Column({ type: 'jsonb' })
  payload!: unknown;

  @Column({ type: 'integer', default: 0 })
  attempts!: number;

  @Column({ name: 'last_error', type: 'text', nullable: true })
  lastError!: string | null;

  @Column({ name: 'received_at', type: 'timestamptz', precision: 3 })
  receivedAt!: Date;

  /** When the event was last handed to the queue; `null` while it never was (Redis was down). */
  @Column({ name: 'enqueued_at', type: 'timestamptz', precision: 3, nullable: true })
  enqueuedAt!: Date | null;

  @Column({ name: 'processed_at', type: 'timestamptz', precision: 3, nullable: true })
  processedAt!: Date | null;

  /** For a `stale` event: the status it takes when an operator replays it. */
  @Column({ name: 'release_status', type: 'text', nullable: true })
  releaseStatus!: Extract<EventStatus, 'received' | 'ignored' | 'quarantined'> | null;

  /** When the out-of-tolerance delivery that recorded this event was signed; `null` for fresh ones. */
  @Column({ name: 'stale_signed_at', type: 'timestamptz', precision: 3, nullable: true })
  staleSignedAt!: Date | null;

  /** `webhook`: a delivery; `api`: what the reconciler read from Magic Hour's API, under the same key. */
  @Column({ type: 'text', default: 'webhook' })
  source!: EventSource;
}
