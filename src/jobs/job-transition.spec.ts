import { describe, expect, it } from '@jest/globals';
import { applyEvent, type AppliedEvent, type JobSnapshot, type JobState } from './job-transition.js';

const at = (second: number) => new Date(Date.UTC(2026, 10, 27, 12, 0, second));
const event = (action: AppliedEvent['action'], second: number): AppliedEvent => ({
  projectId: 'cjob',
  media: 'video',
  action,
  receivedAt: at(second),
});
const empty: JobSnapshot = { details: {} };
const done: JobSnapshot = {
  downloads: [{ url: 'https://example.test/a.mp4', expiresAt: null }],
  creditsCharged: 10,
  details: { width: 1280 },
};
const failed: JobSnapshot = { error: { code: 'E1', message: 'boom' }, details: {} };

function run(...steps: Array<[AppliedEvent, JobSnapshot]>): JobState {
  return steps.reduce<JobState | null>((job, [e, s]) => applyEvent(job, e, s), null)!;
}

describe('applyEvent', () => {
  it('maps started, completed and errored to rendering, complete and error', () => {
    expect(run([event('started', 1), empty]).status).toBe('rendering');
    expect(run([event('completed', 1), done]).status).toBe('complete');
    expect(run([event('errored', 1), failed]).status).toBe('error');
  });

  it('moves forward and stamps each step', () => {
    const job = run([event('started', 1), empty], [event('completed', 2), done]);
    expect(job).toMatchObject({ status: 'complete', startedAt: at(1), completedAt: at(2), erroredAt: null });
    expect(job.downloads).toEqual(done.downloads);
    expect(job.creditsCharged).toBe(10);
    expect(job.details).toEqual({ width: 1280 });
  });

  it('never moves backwards: a late started fills its timestamp only', () => {
    const job = run([event('completed', 2), done], [event('started', 5), { name: 'late name', details: { width: 1 } }]);
    expect(job.status).toBe('complete');
    expect(job.startedAt).toEqual(at(5));
    expect(job.completedAt).toEqual(at(2));
    expect(job.downloads).toEqual(done.downloads);
    expect(job.details).toEqual({ width: 1280 });
    expect(job.name).toBe('late name');
  });

  it('lets the first terminal event win and keeps the contradicting one out of the job', () => {
    const job = run([event('completed', 2), done], [event('errored', 3), failed]);
    expect(job.status).toBe('complete');
    expect(job.error).toBeNull();
    expect(job.erroredAt).toEqual(at(3));

    const other = run([event('errored', 2), failed], [event('completed', 3), done]);
    expect(other.status).toBe('error');
    expect(other.error).toEqual({ code: 'E1', message: 'boom' });
    expect(other.downloads).toEqual([]);
    expect(other.completedAt).toEqual(at(3));
  });

  it('changes nothing when the same event is applied twice', () => {
    const once = run([event('started', 1), empty], [event('completed', 2), done]);
    const twice = applyEvent(once, event('completed', 2), done);
    expect(twice).toEqual(once);
  });

  it('uses the payload created_at, else the first event time', () => {
    expect(run([event('started', 1), empty]).createdAt).toEqual(at(1));
    expect(run([event('started', 1), { ...empty, createdAt: at(0) }]).createdAt).toEqual(at(0));
  });

  it('fills from a late event every descriptive field the job lacks, and overwrites none', () => {
    const late: JobSnapshot = {
      projectType: 'TEXT_TO_VIDEO',
      name: 'late',
      creditsCharged: 3,
      createdAt: at(0),
      details: { width: 640, height: 480, fps: 24 },
    };
    const sparse = run([event('completed', 2), { details: { fps: 30 } }], [event('started', 5), late]);
    expect(sparse).toMatchObject({
      status: 'complete',
      projectType: 'TEXT_TO_VIDEO',
      name: 'late',
      creditsCharged: 3,
      createdAt: at(0),
      createdAtReported: true,
      details: { width: 640, height: 480, fps: 30 },
    });

    const full = run([event('completed', 2), { ...done, projectType: 'X', name: 'first', createdAt: at(1) }], [event('started', 5), late]);
    expect(full).toMatchObject({
      projectType: 'X',
      name: 'first',
      creditsCharged: 10,
      createdAt: at(1),
      details: { width: 1280, height: 480, fps: 24 },
    });
    expect(applyEvent(full, event('started', 5), late)).toEqual(full);
  });

  it('keeps a reported created_at against a late one, and replaces only the first arrival time', () => {
    const reported = run([event('completed', 2), { ...done, createdAt: at(1) }], [event('started', 5), { ...empty, createdAt: at(0) }]);
    expect(reported.createdAt).toEqual(at(1));
    const provisional = run([event('completed', 2), done], [event('started', 5), { ...empty, createdAt: at(0) }]);
    expect(provisional).toMatchObject({ createdAt: at(0), createdAtReported: true });
    expect(run([event('completed', 2), done], [event('started', 5), empty])).toMatchObject({ createdAt: at(2), createdAtReported: false });
  });

  it('cancels a rendering job, and a canceled job stays canceled whatever comes after', () => {
    const job = run([event('started', 1), empty], [event('canceled', 2), empty]);
    expect(job).toMatchObject({ status: 'canceled', startedAt: at(1), completedAt: null, erroredAt: null });
    const late = applyEvent(job, event('completed', 3), done);
    expect(late.status).toBe('canceled');
    expect(late.downloads).toEqual([]);
    expect(late.completedAt).toEqual(at(3));
    expect(run([event('canceled', 1), empty]).status).toBe('canceled');
  });

  it('lets the first terminal event win over a later canceled', () => {
    const job = run([event('completed', 2), done], [event('canceled', 3), empty]);
    expect(job.status).toBe('complete');
    expect(job.downloads).toEqual(done.downloads);
  });

  it('moves a queued job (registered before any news) forward on any event, never back to queued', () => {
    const queued: JobState = { ...run([event('started', 0), empty]), status: 'queued', startedAt: null };
    expect(applyEvent(queued, event('started', 1), empty)).toMatchObject({ status: 'rendering', startedAt: at(1) });
    expect(applyEvent(queued, event('completed', 1), done)).toMatchObject({ status: 'complete', downloads: done.downloads });
    expect(applyEvent(queued, event('canceled', 1), empty).status).toBe('canceled');
  });
});
