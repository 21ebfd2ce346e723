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
  /** Fraction of jobs that get no webhook at all (lost); 0 when absent. */
  lose?: number;
  /** Fraction of jobs canceled at Magic Hour after they started: no final webhook, as Magic Hour sends none; 0 when absent. */
  cancel?: number;
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
  /** The project's true final status at Magic Hour, which `GET /jobs/:id` must reach. */
  expectedStatus: 'complete' | 'error' | 'canceled';
  skippedStarted: boolean;
  outOfOrder: boolean;
  /** Canceled at Magic Hour: its `started` may be sent, no final event is. */
  canceled: boolean;
  /** No webhook at all is sent about it. */
  lost: boolean;
  /** In the order they are sent. */
  events: PlannedEvent[];
}

/**
 * Plans `count` job lifecycles spread evenly over the three media. Each job is `started` then
 * `completed` (or `errored`, at `failureRate`), with the started event dropped, the order reversed or
 * an event doubled at the given rates; a `cancel` share ends canceled with no final event, a `lose`
 * share sends nothing at all. Pure but for the project ids: the same `random` gives the same plan.
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
    let skippedStarted = chance(random, rates.skipStarted);
    let outOfOrder = !skippedStarted && chance(random, rates.outOfOrder);
    // Drawn only when asked for, so that a seed replays the plans it gave before these rates existed.
    const canceled = (rates.cancel ?? 0) > 0 && chance(random, rates.cancel ?? 0);
    const lost = (rates.lose ?? 0) > 0 && chance(random, rates.lose ?? 0);
    if (canceled) outOfOrder = false;
    if (lost) [skippedStarted, outOfOrder] = [false, false];

    const terminal: MagicHourEventType = `${media}.${errored ? 'errored' : 'completed'}`;
    const sequence: Array<[MagicHourEventType, Date]> = [];
    if (!skippedStarted) sequence.push([`${media}.started`, startedAt]);
    if (!canceled) sequence.push([terminal, finishedAt]);
    if (outOfOrder) sequence.reverse();
    if (lost) sequence.length = 0;

    return {
      project,
      expectedStatus: canceled ? 'canceled' : errored ? 'error' : 'complete',
      skippedStarted,
      outOfOrder,
      canceled,
      lost,
      events: sequence.map(([type, at]) => ({
        type,
        body: projectEventBody(type, project, at),
        copies: chance(random, rates.duplicates) ? 2 : 1,
      })),
    };
  });
}
