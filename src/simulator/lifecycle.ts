import { MEDIA, type MagicHourEventType, type Media } from '../magic-hour/magic-hour-event.types.js';
import { projectEventBody, randomProject, type Project } from './events.js';
import { between, chance, type Random } from './random.js';

/** How often each thing that breaks a naive webhook handler happens in a simulation; each 0 to 1. */
export interface LifecycleRates {
  /** Fraction of jobs whose render ends `errored` instead of `completed`. */
  failureRate: number;
  /** Probability that an event is delivered twice, both copies at once. */
  duplicates: number;
  /** Probability that a job's final event is sent before its `started`. */
  outOfOrder: number;
  /** Probability that a job's `started` event is never sent (as for some image modes). */
  skipStarted: number;
}

/** One event of a job, ready to be signed and delivered `copies` times. */
export interface PlannedEvent {
  type: MagicHourEventType;
  /** The exact bytes to sign and send; the same on every copy and every retry. */
  body: string;
  copies: 1 | 2;
}

/** One Magic Hour job: its project, the events sent about it in order, and where it must end. */
export interface JobPlan {
  project: Project;
  /** The status `GET /jobs/:id` must reach once every event is delivered. */
  expectedStatus: 'complete' | 'error';
  skippedStarted: boolean;
  outOfOrder: boolean;
  /** In the order they are sent. */
  events: PlannedEvent[];
}

/**
 * Plans `count` job lifecycles spread evenly over the three media. Each job is `started` then
 * `completed` (or `errored`, at `failureRate`), with the started event dropped, the order reversed or
 * an event doubled at the given rates. Pure but for the project ids: the same `random` gives the same plan.
 * `outputsUrl` serves the outputs instead of Magic Hour's hosts (see `randomProject`).
 */
export function planLifecycles(
  count: number,
  rates: LifecycleRates,
  random: Random,
  now: Date = new Date(),
  outputsUrl?: string,
): JobPlan[] {
  return Array.from({ length: count }, (_, index) => {
    const media: Media = MEDIA[index % MEDIA.length];
    const createdAt = new Date(now.getTime() - between(random, 5, 60) * 1000);
    const startedAt = new Date(createdAt.getTime() + between(random, 1, 5) * 1000);
    const finishedAt = new Date(startedAt.getTime() + between(random, 5, 120) * 1000);
    const project = randomProject(media, random, createdAt, undefined, outputsUrl);
    const errored = chance(random, rates.failureRate);
    const skippedStarted = chance(random, rates.skipStarted);
    const outOfOrder = !skippedStarted && chance(random, rates.outOfOrder);

    const terminal: MagicHourEventType = `${media}.${errored ? 'errored' : 'completed'}`;
    const sequence: Array<[MagicHourEventType, Date]> = skippedStarted
      ? [[terminal, finishedAt]]
      : [
          [`${media}.started`, startedAt],
          [terminal, finishedAt],
        ];
    if (outOfOrder) sequence.reverse();

    return {
      project,
      expectedStatus: errored ? 'error' : 'complete',
      skippedStarted,
      outOfOrder,
      events: sequence.map(([type, at]) => ({
        type,
        body: projectEventBody(type, project, at),
        copies: chance(random, rates.duplicates) ? 2 : 1,
      })),
    };
  });
}
