import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import magicHour from 'magic-hour';
import { MEDIA } from '../magic-hour/magic-hour-event.types.js';
import {
  API_PROJECT_STATUSES,
  malformedAnswer,
  notFoundAnswer,
  projectAnswer,
  rateLimitedAnswer,
  startFakeMagicHourApi,
  type FakeMagicHourApi,
} from './fake-magic-hour-api.js';

describe('startFakeMagicHourApi', () => {
  let api: FakeMagicHourApi;
  const client = () => new magicHour.default({ token: 'k', baseUrl: api.url });
  const get = (media: (typeof MEDIA)[number], id: string) => client().v1[`${media}Projects`].get({ id });

  beforeAll(async () => {
    api = await startFakeMagicHourApi();
  });
  afterAll(async () => {
    await api.close();
  });

  it.each(MEDIA)('answers %s projects in every status in a shape the official SDK accepts', async (media) => {
    for (const status of API_PROJECT_STATUSES) {
      api.setStatus(media, `c${media}${status}`, status);
      const project = await get(media, `c${media}${status}`);
      expect(project).toMatchObject({ id: `c${media}${status}`, status });
      if (status === 'complete') expect(project.downloads).toEqual([{ url: expect.any(String), expiresAt: expect.any(String) }]);
      if (status === 'error') expect(project.error).toEqual({ code: 'render_failed', message: 'The render failed' });
    }
  });

  it('plays scripted answers in order, repeats the last, and records each request with its time', async () => {
    api.clearRequests();
    api.script('video', 'cseq', notFoundAnswer(), rateLimitedAnswer(7), projectAnswer('video', 'cseq', 'canceled'));
    await expect(get('video', 'cseq')).rejects.toMatchObject({ response: { status: 404 } });
    const limited = await get('video', 'cseq').catch((error: { response: Response }) => error.response);
    expect(limited).toMatchObject({ status: 429 });
    expect((limited as Response).headers.get('retry-after')).toBe('7');
    expect((await get('video', 'cseq')).status).toBe('canceled');
    expect((await get('video', 'cseq')).status).toBe('canceled');
    expect(api.requestsFor('cseq').map((request) => request.answeredStatus)).toEqual([404, 429, 200, 200]);
    expect(api.requests[0]).toMatchObject({ method: 'GET', path: '/v1/video-projects/cseq', media: 'video', authorization: 'Bearer k' });
    expect(api.requests[0].at).toBeLessThanOrEqual(api.requests[3].at);
  });

  it('gives a malformed answer that the SDK refuses', async () => {
    api.script('image', 'cbad', malformedAnswer('image', 'cbad'));
    await expect(get('image', 'cbad')).rejects.toMatchObject({ name: 'ZodError' });
  });

  it('answers 401 without the right token when it has one', async () => {
    const guarded = await startFakeMagicHourApi({ token: 'right' });
    try {
      guarded.setStatus('audio', 'cguard', 'complete');
      const wrong = new magicHour.default({ token: 'wrong', baseUrl: guarded.url });
      await expect(wrong.v1.audioProjects.get({ id: 'cguard' })).rejects.toMatchObject({ response: { status: 401 } });
      const right = new magicHour.default({ token: 'right', baseUrl: guarded.url });
      expect((await right.v1.audioProjects.get({ id: 'cguard' })).status).toBe('complete');
    } finally {
      await guarded.close();
    }
  });
});
