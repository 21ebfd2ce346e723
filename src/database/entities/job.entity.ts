import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { JobStatus, Media } from '../../magic-hour/magic-hour-event.types.js';

/** A file Magic Hour rendered, as its payload lists it. */
export interface JobDownload {
  url: string;
  expiresAt: string | null;
}

/** Why Magic Hour says a job failed. */
export interface JobError {
  code: string | null;
  message: string | null;
}

/** Fields only one media has, such as a video's `width` or an image's `imageCount`. */
export type JobDetails = Record<string, string | number | boolean>;

/** A `bigint` column's value (node-postgres reads it as text) as the number it was stored from. */
export const creditsFromColumn = (value: string | number | null): number | null => (value === null ? null : Number(value));

/** One Magic Hour project as its events describe it. Its history is the `webhook_events` with its id. */
// The schema comes from the migrations alone: a host app's `synchronize` or `migration:generate` must
// not alter this table (the entity does not describe its indexes, checks or defaults).
@Entity({ name: 'jobs', synchronize: false })
export class JobEntity {
  /** Magic Hour's project id (`payload.id`). */
  @PrimaryColumn({ type: 'text' })
  id!: string;

  @Column({ type: 'text' })
  media!: Media;

  @Column({ name: 'project_type', type: 'text', nullable: true })
  projectType!: string | null;

  @Column({ type: 'text', nullable: true })
  name!: string | null;

  @Column({ type: 'text' })
  status!: JobStatus;

  @Column({ type: 'jsonb', default: () => "'[]'" })
  downloads!: JobDownload[];

  @Column({ type: 'jsonb', nullable: true })
  error!: JobError | null;

  /** A `bigint` (Magic Hour sets no maximum), read as a number: every value stored came from a JSON number. */
  @Column({
    name: 'credits_charged',
    type: 'bigint',
    nullable: true,
    transformer: { to: (value: unknown) => value, from: creditsFromColumn },
  })
  creditsCharged!: number | null;

  /** What only one media has: a video's size, frame rate and span; an image's count. */
  @Column({ type: 'jsonb', default: () => "'{}'" })
  details!: JobDetails;

  /** From the payload's `created_at`; the first event's arrival when Magic Hour sent none. */
  @Column({ name: 'created_at', type: 'timestamptz', precision: 3 })
  createdAt!: Date;

  /** Whether `createdAt` came from a payload; until then a later event's `created_at` replaces it. */
  @Column({ name: 'created_at_reported', type: 'boolean', default: false })
  createdAtReported!: boolean;

  @Column({ name: 'started_at', type: 'timestamptz', precision: 3, nullable: true })
  startedAt!: Date | null;

  @Column({ name: 'completed_at', type: 'timestamptz', precision: 3, nullable: true })
  completedAt!: Date | null;

  @Column({ name: 'errored_at', type: 'timestamptz', precision: 3, nullable: true })
  erroredAt!: Date | null;

  @Column({ name: 'updated_at', type: 'timestamptz', precision: 3 })
  updatedAt!: Date;

  /** Checks with Magic Hour's API since the job's last news; the next one waits twice as long. */
  @Column({ name: 'reconcile_checks', type: 'integer', default: 0 })
  reconcileChecks!: number;

  /** When the reconciler last asked Magic Hour's API about the job (or was asked to, now). */
  @Column({ name: 'reconcile_checked_at', type: 'timestamptz', precision: 3, nullable: true })
  reconcileCheckedAt!: Date | null;

  /** When the job is next due a check, once checked; `null`: none planned (finished, or too old). */
  @Column({ name: 'reconcile_next_at', type: 'timestamptz', precision: 3, nullable: true })
  reconcileNextAt!: Date | null;

  /** What the last check found (`unchanged`, `applied`, `not_found`, `rate_limited`, ...). */
  @Column({ name: 'reconcile_outcome', type: 'text', nullable: true })
  reconcileOutcome!: string | null;

  /** When Magic Hour's API answered 404 for the job; it is not asked again unless an operator asks. */
  @Column({ name: 'api_not_found_at', type: 'timestamptz', precision: 3, nullable: true })
  apiNotFoundAt!: Date | null;
}
