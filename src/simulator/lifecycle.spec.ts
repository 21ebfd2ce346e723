import { describe, expect, it } from '@jest/globals';
import { planLifecycles, type LifecycleRates } from './lifecycle.js';
import { seededRandom } from './random.js';

const NONE: LifecycleRates = { failureRate: 0, duplicates: 0, outOfOrder: 0, skipStarted: 0 };
const typesOf = (plan: ReturnType<typeof planLifecycles>[number]) => plan.events.map((event) => event.type);

describe('planLifecycles', () => {
  it('plans started then completed, spread evenly over the three media, when nothing goes wrong', () => {
    const plans = planLifecycles(9, NONE, seededRandom(1));
    expect(plans.map((plan) => plan.project.media)).toEqual([
      'video',
      'image',
      'audio',
      'video',
      'image',
      'audio',
      'video',
      'image',
      'audio',
    ]);
    for (const plan of plans) {
      const media = plan.project.media;
      expect(typesOf(plan)).toEqual([`${media}.started`, `${media}.completed`]);
      expect(plan).toMatchObject({ expectedStatus: 'complete', skippedStarted: false, outOfOrder: false });
      expect(plan.events.every((event) => event.copies === 1)).toBe(true);
      for (const event of plan.events) {
        expect(JSON.parse(event.body)).toMatchObject({ type: event.type, payload: { id: plan.project.id } });
      }
    }
  });

  it('ends every job errored at failure rate 1', () => {
    for (const plan of planLifecycles(6, { ...NONE, failureRate: 1 }, seededRandom(2))) {
      expect(typesOf(plan)).toEqual([`${plan.project.media}.started`, `${plan.project.media}.errored`]);
      expect(plan.expectedStatus).toBe('error');
    }
  });

  it('sends the final event first when out of order, and only it when started is skipped', () => {
    for (const plan of planLifecycles(3, { ...NONE, outOfOrder: 1 }, seededRandom(3))) {
      expect(typesOf(plan)).toEqual([`${plan.project.media}.completed`, `${plan.project.media}.started`]);
      expect(plan.outOfOrder).toBe(true);
    }
    for (const plan of planLifecycles(3, { ...NONE, outOfOrder: 1, skipStarted: 1 }, seededRandom(3))) {
      expect(typesOf(plan)).toEqual([`${plan.project.media}.completed`]);
      expect(plan).toMatchObject({ skippedStarted: true, outOfOrder: false, expectedStatus: 'complete' });
    }
  });

  it('doubles every event at duplicates 1', () => {
    const plans = planLifecycles(3, { ...NONE, duplicates: 1 }, seededRandom(4));
    expect(plans.flatMap((plan) => plan.events.map((event) => event.copies))).toEqual([2, 2, 2, 2, 2, 2]);
  });

  it('hits each rate about as often as asked', () => {
    const rates = { failureRate: 0.3, duplicates: 0.2, outOfOrder: 0.4, skipStarted: 0.1 };
    const plans = planLifecycles(4000, rates, seededRandom(5));
    const share = (n: number, of = plans.length) => n / of;
    const events = plans.flatMap((plan) => plan.events);
    const withStarted = plans.filter((plan) => !plan.skippedStarted);
    expect(share(plans.filter((plan) => plan.expectedStatus === 'error').length)).toBeCloseTo(0.3, 1);
    expect(share(plans.filter((plan) => plan.skippedStarted).length)).toBeCloseTo(0.1, 1);
    expect(share(withStarted.filter((plan) => plan.outOfOrder).length, withStarted.length)).toBeCloseTo(0.4, 1);
    expect(share(events.filter((event) => event.copies === 2).length, events.length)).toBeCloseTo(0.2, 1);
  });

  it('plans the same jobs from the same seed, with fresh project ids', () => {
    const rates = { failureRate: 0.5, duplicates: 0.5, outOfOrder: 0.5, skipStarted: 0.3 };
    const now = new Date('2026-11-27T10:00:00.000Z');
    const shape = (seed: number) =>
      planLifecycles(30, rates, seededRandom(seed), now).map((plan) => ({
        status: plan.expectedStatus,
        events: plan.events.map((event) => [event.type, event.copies, JSON.parse(event.body).payload.type]),
      }));
    expect(shape(42)).toEqual(shape(42));
    expect(shape(42)).not.toEqual(shape(43));
    const [a, b] = [planLifecycles(1, rates, seededRandom(42), now), planLifecycles(1, rates, seededRandom(42), now)];
    expect(a[0].project.id).not.toBe(b[0].project.id);
  });

  it('sends a canceled job its started event only, and a lost job nothing, each ending at its true status', () => {
    for (const plan of planLifecycles(3, { ...NONE, cancel: 1, outOfOrder: 1 }, seededRandom(6))) {
      expect(typesOf(plan)).toEqual([`${plan.project.media}.started`]);
      expect(plan).toMatchObject({ expectedStatus: 'canceled', canceled: true, lost: false, outOfOrder: false });
    }
    for (const plan of planLifecycles(3, { ...NONE, cancel: 1, skipStarted: 1 }, seededRandom(6))) {
      expect(plan.events).toEqual([]);
      expect(plan.expectedStatus).toBe('canceled');
    }
    const lost = planLifecycles(6, { ...NONE, lose: 1, failureRate: 0.5, skipStarted: 0.5, duplicates: 1 }, seededRandom(7));
    for (const plan of lost) {
      expect(plan.events).toEqual([]);
      expect(plan).toMatchObject({ lost: true, canceled: false, skippedStarted: false, outOfOrder: false });
    }
    expect(new Set(lost.map((plan) => plan.expectedStatus))).toEqual(new Set(['complete', 'error']));
  });

  it('loses and cancels about the shares asked, and replays an older seed unchanged when neither is asked', () => {
    const plans = planLifecycles(4000, { ...NONE, lose: 0.2, cancel: 0.1 }, seededRandom(8));
    expect(plans.filter((plan) => plan.lost).length / plans.length).toBeCloseTo(0.2, 1);
    expect(plans.filter((plan) => plan.canceled).length / plans.length).toBeCloseTo(0.1, 1);
    expect(plans.filter((plan) => plan.expectedStatus === 'canceled').length).toBe(plans.filter((plan) => plan.canceled).length);

    const rates = { failureRate: 0.5, duplicates: 0.5, outOfOrder: 0.5, skipStarted: 0.3 };
    const now = new Date('2026-11-27T10:00:00.000Z');
    const shape = (plan: ReturnType<typeof planLifecycles>[number]) => [plan.expectedStatus, plan.events.map((e) => [e.type, e.copies])];
    expect(planLifecycles(50, { ...rates, lose: 0, cancel: 0 }, seededRandom(9), now).map(shape)).toEqual(
      planLifecycles(50, rates, seededRandom(9), now).map(shape),
    );
  });
});
