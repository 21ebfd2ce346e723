import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import magicHour from 'magic-hour';
import type { Media } from '../magic-hour/magic-hour-event.types.js';
import { startFakeMagicHourApi, type FakeMagicHourApi } from './fake-magic-hour-api.js';
import { planLifecycles, type JobPlan, type LifecycleRates } from './lifecycle.js';
import { seededRandom } from './random.js';
import { SimulatedProjects } from './simulated-projects.js';

const NONE: LifecycleRates = { failureRate: 0, duplicates: 0, outOfOrder: 0, skipStarted: 0 };

describe(SimulatedProjects.name, () => {
  let api: FakeMagicHourApi;
  /** What the official SDK reads about a plan's project, as the service's reconciler would. */
  const read = async (plan: JobPlan) => {
    const client = new magicHour.default({ token: 'k', baseUrl: api.url });
    const media: Media = plan.project.media;
    return client.v1[`${media}Projects`].get({ id: plan.project.id });
  };
  const one = (rates: Partial<LifecycleRates>, seed = 1) => planLifecycles(1, { ...NONE, ...rates }, seededRandom(seed))[0];

  beforeAll(async () => {
    api = await startFakeMagicHourApi();
  });
  afterAll(async () => {
    await api.close();
  });

  it('answers queued once created, rendering once started goes out, then the final status with its outputs', async () => {
    const sut = new SimulatedProjects(api);
    const plan = one({});
    await expect(read(plan)).rejects.toMatchObject({ response: { status: 404 } });
    sut.created(plan);
    await expect(read(plan)).resolves.toMatchObject({ id: plan.project.id, status: 'queued' });
    sut.sending(plan, plan.events[0]);
    await expect(read(plan)).resolves.toMatchObject({ status: 'rendering' });
    sut.sending(plan, plan.events[1]);
    const done = await read(plan);
    expect(done).toMatchObject({ status: 'complete', creditsCharged: plan.project.creditsCharged });
    expect(done.downloads.map((download) => download.url)).toEqual(plan.project.outputs);
    expect(sut.statusOf(plan.project.id)).toBe('complete');
  });

  it('never moves a project backwards: a late started event leaves it finished', async () => {
    const sut = new SimulatedProjects(api);
    const plan = one({ outOfOrder: 1, failureRate: 1 });
    sut.created(plan);
    for (const event of plan.events) sut.sending(plan, event);
    sut.finished(plan);
    await expect(read(plan)).resolves.toMatchObject({ status: 'error', error: plan.project.error });
  });

  it('finishes a canceled job and a lost one when their (missing) webhooks would have gone out', async () => {
    const sut = new SimulatedProjects(api);
    const canceled = one({ cancel: 1 }, 2);
    const lost = one({ lose: 1 }, 3);
    for (const plan of [canceled, lost]) sut.created(plan);
    sut.sending(canceled, canceled.events[0]);
    await expect(read(canceled)).resolves.toMatchObject({ status: 'rendering' });
    sut.finished(canceled);
    sut.finished(lost);
    await expect(read(canceled)).resolves.toMatchObject({ status: 'canceled', downloads: [] });
    await expect(read(lost)).resolves.toMatchObject({ status: lost.expectedStatus });
  });
});
