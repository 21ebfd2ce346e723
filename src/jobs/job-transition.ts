import { isTerminalStatus, type JobEventAction, type JobStatus, type Media } from '../magic-hour/magic-hour-event.types.js';
import type { JobDetails, JobDownload, JobError } from '../database/entities/job.entity.js';

/** What one event's payload says about its job; `undefined` where the payload said nothing. */
export interface JobSnapshot {
  projectType?: string | null;
  name?: string | null;
  downloads?: JobDownload[];
  error?: JobError | null;
  creditsCharged?: number | null;
  details: JobDetails;
  createdAt?: Date;
}

/** A job's stored state, as far as events decide it. */
export interface JobState {
  id: string;
  media: Media;
  projectType: string | null;
  name: string | null;
  status: JobStatus;
  downloads: JobDownload[];
  error: JobError | null;
  creditsCharged: number | null;
  details: JobDetails;
  createdAt: Date;
  /** Whether `createdAt` came from a payload, not from the first event's arrival. */
  createdAtReported: boolean;
  startedAt: Date | null;
  completedAt: Date | null;
  erroredAt: Date | null;
}

/** The event being applied. */
export interface AppliedEvent {
  projectId: string;
  media: Media;
  action: JobEventAction;
  receivedAt: Date;
}

const STATUS_OF: Record<JobEventAction, JobStatus> = {
  started: 'rendering',
  completed: 'complete',
  errored: 'error',
  canceled: 'canceled',
};

// A cancellation has no timestamp of its own: the job's `updatedAt` says when it was recorded.
const TIMESTAMP_OF = {
  started: 'startedAt',
  completed: 'completedAt',
  errored: 'erroredAt',
  canceled: null,
} as const satisfies Record<JobEventAction, keyof JobState | null>;

/** Order of the statuses a job goes through: it never moves to a lower one. */
const RANK: Record<JobStatus, number> = { queued: 0, rendering: 1, complete: 2, error: 2, canceled: 2 };

/**
 * Applies one event to a job (or creates the job). The event's type decides, never `payload.status`.
 * Status never moves backwards (queued < rendering < complete | error | canceled) and the first
 * terminal event wins.
 * An event that moves the job forward (or is its first) writes what its payload says; a late or
 * contradicting one fills every field describing the project that the job does not have yet
 * (timestamps, `created_at`, name, type, credits, each detail) and overwrites none. Pure: applying the same event twice
 * gives the same job.
 */
export function applyEvent(current: JobState | null, event: AppliedEvent, snapshot: JobSnapshot): JobState {
  const target = STATUS_OF[event.action];
  const stampField = TIMESTAMP_OF[event.action];

  if (current === null) {
    return {
      id: event.projectId,
      media: event.media,
      projectType: snapshot.projectType ?? null,
      name: snapshot.name ?? null,
      status: target,
      downloads: snapshot.downloads ?? [],
      error: snapshot.error ?? null,
      creditsCharged: snapshot.creditsCharged ?? null,
      details: snapshot.details,
      createdAt: snapshot.createdAt ?? event.receivedAt,
      createdAtReported: snapshot.createdAt !== undefined,
      startedAt: null,
      completedAt: null,
      erroredAt: null,
      ...(stampField && { [stampField]: event.receivedAt }),
    };
  }

  const advances = !isTerminalStatus(current.status) && RANK[target] >= RANK[current.status];
  // Not `downloads` nor `error`: they are the outcome of the status the job has, not of a late event's.
  const next: JobState = {
    ...current,
    projectType: current.projectType ?? snapshot.projectType ?? null,
    name: current.name ?? snapshot.name ?? null,
    creditsCharged: current.creditsCharged ?? snapshot.creditsCharged ?? null,
    details: { ...snapshot.details, ...current.details },
    ...(!current.createdAtReported && snapshot.createdAt !== undefined && { createdAt: snapshot.createdAt, createdAtReported: true }),
    ...(stampField && { [stampField]: current[stampField] ?? event.receivedAt }),
  };
  if (!advances) return next;

  return {
    ...next,
    status: target,
    projectType: snapshot.projectType ?? current.projectType,
    name: snapshot.name ?? current.name,
    downloads: snapshot.downloads ?? current.downloads,
    error: snapshot.error === undefined ? current.error : snapshot.error,
    creditsCharged: snapshot.creditsCharged ?? current.creditsCharged,
    details: { ...current.details, ...snapshot.details },
    createdAt: snapshot.createdAt ?? current.createdAt,
    createdAtReported: current.createdAtReported || snapshot.createdAt !== undefined,
  };
}
