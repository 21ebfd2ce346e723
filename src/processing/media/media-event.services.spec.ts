import { describe, expect, it } from '@jest/globals';
import { payload as fixturePayload } from '../../../test/support/events.js';
import type { AudioPayloadDto, ImagePayloadDto, VideoPayloadDto } from '../../magic-hour/dto/project-payload.dto.js';
import { AudioEventService } from './audio-event.service.js';
import { ImageEventService } from './image-event.service.js';
import { VideoEventService } from './video-event.service.js';

// Plain mappers: no dependencies to provide.
const video = new VideoEventService();
const image = new ImageEventService();
const audio = new AudioEventService();

const asVideo = (payload: Record<string, unknown>) => payload as unknown as VideoPayloadDto;
const asImage = (payload: Record<string, unknown>) => payload as unknown as ImagePayloadDto;
const asAudio = (payload: Record<string, unknown>) => payload as unknown as AudioPayloadDto;

describe(VideoEventService.name, () => {
  const sut = video;

  it('handles video', () => {
    expect(sut.media).toBe('video');
  });

  it('reads a completed video payload into a snapshot, details in camelCase', () => {
    const snapshot = sut.snapshot(asVideo(fixturePayload('video', 'completed', 'cvid')));
    expect(snapshot).toEqual({
      projectType: 'TEXT_TO_VIDEO',
      name: 'video test project',
      downloads: [{ url: 'https://videos.magichour.ai/id/cvid/output', expiresAt: '2026-11-28T10:00:00.000Z' }],
      error: null,
      creditsCharged: 120,
      createdAt: new Date('2026-11-27T10:00:00.000Z'),
      details: { width: 1280, height: 720, fps: 30, startSeconds: 0, endSeconds: 5 },
    });
  });

  it('keeps zero values in details, and drops null or absent ones', () => {
    const snapshot = sut.snapshot(asVideo({ id: 'cvid', width: 0, height: null, fps: 24, start_seconds: null }));
    expect(snapshot.details).toEqual({ width: 0, fps: 24 });
    expect(Object.keys(snapshot.details)).not.toContain('height');
    expect(Object.keys(snapshot.details)).not.toContain('endSeconds');
  });

  it('reads a width or height of -1 ("can be ignored") as not sent, keeping other values', () => {
    const snapshot = sut.snapshot(asVideo({ id: 'cvid', width: -1, height: -1, fps: -1 }));
    expect(snapshot.details).toEqual({ fps: -1 });
    expect(sut.snapshot(asVideo({ id: 'cvid', width: -1, height: 720 })).details).toEqual({ height: 720 });
    expect(sut.snapshot(asVideo({ id: 'cvid', width: -2, height: 0 })).details).toEqual({ width: -2, height: 0 });
  });

  it('does not copy fields other than its own into details', () => {
    const snapshot = sut.snapshot(asVideo({ id: 'cvid', width: 640, image_count: 3, start_seconds: 1.5, extra: 'x' }));
    expect(snapshot.details).toEqual({ width: 640, startSeconds: 1.5 });
  });
});

describe(ImageEventService.name, () => {
  const sut = image;

  it('handles image', () => {
    expect(sut.media).toBe('image');
  });

  it('puts the image count into details as imageCount', () => {
    const snapshot = sut.snapshot(asImage(fixturePayload('image', 'completed', 'cimg')));
    expect(snapshot.details).toEqual({ imageCount: 1 });
    expect(snapshot.projectType).toBe('AI_IMAGE');
    expect(snapshot.downloads).toEqual([{ url: 'https://images.magichour.ai/id/cimg/output', expiresAt: '2026-11-28T10:00:00.000Z' }]);
  });

  it('drops a null or absent image count, keeps 0', () => {
    expect(sut.snapshot(asImage({ id: 'cimg', image_count: null })).details).toEqual({});
    expect(sut.snapshot(asImage({ id: 'cimg' })).details).toEqual({});
    expect(sut.snapshot(asImage({ id: 'cimg', image_count: 0 })).details).toEqual({ imageCount: 0 });
  });

  it('ignores video fields', () => {
    expect(sut.snapshot(asImage({ id: 'cimg', width: 1024, image_count: 4 })).details).toEqual({ imageCount: 4 });
  });
});

describe(AudioEventService.name, () => {
  const sut = audio;

  it('handles audio', () => {
    expect(sut.media).toBe('audio');
  });

  it('has no details, whatever the payload holds', () => {
    const snapshot = sut.snapshot(asAudio({ ...fixturePayload('audio', 'errored', 'caud'), width: 1, image_count: 2 }));
    expect(snapshot.details).toEqual({});
    expect(snapshot.error).toEqual({ code: 'render_failed', message: 'The render failed' });
    expect(snapshot.projectType).toBe('VOICE_GENERATOR');
  });
});

describe('MediaEventService.snapshot (common fields)', () => {
  it.each([
    ['video', video],
    ['image', image],
    ['audio', audio],
  ] as const)('leaves every field Magic Hour did not send undefined, for %s', (_media, sut) => {
    const snapshot = sut.snapshot({ id: 'conly' });
    expect(snapshot).toEqual({ details: {} });
    for (const field of ['projectType', 'name', 'downloads', 'error', 'creditsCharged', 'createdAt'] as const) {
      expect(snapshot[field]).toBeUndefined();
    }
  });

  it('reads null as "not sent" for descriptive fields, so they do not overwrite', () => {
    const snapshot = audio.snapshot(asAudio({ id: 'c', type: null, name: null, downloads: null, credits_charged: null, created_at: null }));
    expect(snapshot.projectType).toBeUndefined();
    expect(snapshot.name).toBeUndefined();
    expect(snapshot.downloads).toBeUndefined();
    expect(snapshot.creditsCharged).toBeUndefined();
    expect(snapshot.createdAt).toBeUndefined();
  });

  it('tells an absent error (undefined) from an explicit null error (null)', () => {
    expect(audio.snapshot(asAudio({ id: 'c' })).error).toBeUndefined();
    expect(audio.snapshot(asAudio({ id: 'c', error: null })).error).toBeNull();
  });

  it('fills missing error parts with null', () => {
    expect(audio.snapshot(asAudio({ id: 'c', error: { code: 'E1' } })).error).toEqual({ code: 'E1', message: null });
    expect(audio.snapshot(asAudio({ id: 'c', error: { message: 'boom', code: null } })).error).toEqual({
      code: null,
      message: 'boom',
    });
  });

  it('maps downloads to {url, expiresAt}, a missing expiry to null, and drops other fields', () => {
    const snapshot = image.snapshot(
      asImage({
        id: 'c',
        downloads: [
          { url: 'https://a.test/1.png', expires_at: '2026-11-28T10:00:00.000Z', size: 123 },
          { url: 'https://a.test/2.png', expires_at: null },
          { url: 'https://a.test/3.png' },
        ],
      }),
    );
    expect(snapshot.downloads).toEqual([
      { url: 'https://a.test/1.png', expiresAt: '2026-11-28T10:00:00.000Z' },
      { url: 'https://a.test/2.png', expiresAt: null },
      { url: 'https://a.test/3.png', expiresAt: null },
    ]);
  });

  it('keeps an empty downloads list as empty (sent, so it may overwrite)', () => {
    expect(video.snapshot(asVideo({ id: 'c', downloads: [] })).downloads).toEqual([]);
  });

  it('parses created_at into a Date', () => {
    const createdAt = video.snapshot(asVideo({ id: 'c', created_at: '2024-10-19T05:16:19.027Z' })).createdAt;
    expect(createdAt).toBeInstanceOf(Date);
    expect(createdAt!.toISOString()).toBe('2024-10-19T05:16:19.027Z');
    expect(video.snapshot(asVideo({ id: 'c', created_at: '2024-10-19T07:16:19+02:00' })).createdAt!.toISOString()).toBe(
      '2024-10-19T05:16:19.000Z',
    );
  });

  it('leaves out a created_at before 2000, more than a day ahead, or unreadable (the job keeps its first arrival)', () => {
    for (const created_at of [
      '9999-12-31T23:59:59-23:59',
      '1999-12-31T23:59:59Z',
      new Date(Date.now() + 25 * 3600_000).toISOString(),
      'soon',
    ]) {
      expect(video.snapshot(asVideo({ id: 'c', created_at })).createdAt).toBeUndefined();
    }
    const aheadByAnHour = new Date(Date.now() + 3600_000).toISOString();
    expect(video.snapshot(asVideo({ id: 'c', created_at: aheadByAnHour })).createdAt!.toISOString()).toBe(aheadByAnHour);
  });

  it('keeps zero credits (not the same as not sent)', () => {
    expect(video.snapshot(asVideo({ id: 'c', credits_charged: 0 })).creditsCharged).toBe(0);
  });

  it('keeps any credits a bigint holds, and leaves out one it does not', () => {
    for (const credits of [2 ** 31, -40, 4e15, 2 ** 63 - 1024, -(2 ** 63) + 1024]) {
      expect(audio.snapshot(asAudio({ id: 'c', credits_charged: credits })).creditsCharged).toBe(credits);
    }
    for (const credits of [2 ** 63, -(2 ** 63), 1e19, 1e300]) {
      expect(audio.snapshot(asAudio({ id: 'c', credits_charged: credits })).creditsCharged).toBeUndefined();
    }
  });
});
