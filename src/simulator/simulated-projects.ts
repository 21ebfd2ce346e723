import { actionOf, type MagicHourEventType } from '../magic-hour/magic-hour-event.types.js';
import type { ApiProjectStatus, FakeMagicHourApi } from './fake-magic-hour-api.js';
import type { JobPlan, PlannedEvent } from './lifecycle.js';

/** A project's status as it moves along: never backwards, as at Magic Hour. */
const RANK: Record<ApiProjectStatus, number> = { draft: 0, queued: 1, rendering: 2, complete: 3, error: 3, canceled: 3 };

/**
 * Magic Hour's side of the simulated projects, as its API tells it: each project answers `queued` once
 * created, `rendering` once its `started` event goes out, and its true final status (`complete`,
 * `error` or `canceled`) once its final event goes out, or when it would have, for a job whose
 * webhooks are lost or that was canceled. So a service that asks the API early sees a render still
 * under way, and one that asks after the fact sees what really happened.
 */
export class SimulatedProjects {
  private readonly status = new Map<string, ApiProjectStatus>();

  constructor(private readonly api: FakeMagicHourApi) {}

  /** The project was created at Magic Hour: the API knows it, queued. */
  created(plan: JobPlan): void {
    this.move(plan, 'queued');
  }

  /** The webhook `event` about the project is going out: the project is at least where it says. */
  sending(plan: JobPlan, event: PlannedEvent): void {
    this.move(plan, statusAfter(event.type, plan));
  }

  /** Every webhook about the project went out (or none was to): it is finished. */
  finished(plan: JobPlan): void {
    this.move(plan, plan.expectedStatus);
  }

  /** What the API answers about `id` now; `undefined` for a project never created. */
  statusOf(id: string): ApiProjectStatus | undefined {
    return this.status.get(id);
  }

  private move(plan: JobPlan, next: ApiProjectStatus): void {
    const current = this.status.get(plan.project.id);
    if (current !== undefined && RANK[current] >= RANK[next]) return;
    this.status.set(plan.project.id, next);
    this.api.setStatus(plan.project.media, plan.project.id, next, {}, plan.project);
  }
}

/** Where a project is once the `type` event about it was sent: its final status for a final event. */
function statusAfter(type: MagicHourEventType, plan: JobPlan): ApiProjectStatus {
  return actionOf(type) === 'started' ? 'rendering' : plan.expectedStatus;
}
