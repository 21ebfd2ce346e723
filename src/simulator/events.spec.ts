import { describe, expect, it } from '@jest/globals';
import { MEDIA, type EventAction } from '../magic-hour/magic-hour-event.types.js';
import { WebhookEventParser } from '../webhook/webhook-event.parser.js';
import { ALL_TYPES, DOWNLOAD_TTL_MS, projectEventBody, projectId, randomProject } from './events.js';
import { seededRandom } from './random.js';

describe('randomProject and projectEventBody', () => {
  const parser = new WebhookEventParser();
  const createdAt = new Date('2026-11-27T10:00:00.000Z');
  const at = new Date('2026-11-27T10:02:00.000Z');

  it('covers exactly the nine event types', () => {
    expect([...ALL_TYPES].sort()).toEqual(
      MEDIA.flatMap((media) => ['started', 'completed', 'errored'].map((action) => `${media}.${action}`)).sort(),
    );
  });

  it.each(ALL_TYPES)("builds %s bodies that the service's parser takes as valid, over many projects", async (type) => {
    const media = type.split('.')[0] as (typeof MEDIA)[number];
    const random = seededRandom(1234);
    for (let n = 0; n < 50; n++) {
      const project = randomProject(media, random, createdAt);
      const result = await parser.parse(Buffer.from(projectEventBody(type, project, at)));
      expect(result).toMatchObject({ kind: 'valid', type, media, projectId: project.id, eventKey: `${type}:${project.id}` });
    }
  });

  it("puts the outputs on Magic Hour's hosts, or under the outputs URL when one is given", () => {
    for (const media of MEDIA) {
      const own = randomProject(media, seededRandom(7), createdAt, 'cabc');
      for (const url of own.outputs) expect(url).toMatch(/^https:\/\/(videos|images|audio)\.magichour\.ai\/cabc\/output/);
      const local = randomProject(media, seededRandom(7), createdAt, 'cabc', 'http://127.0.0.1:8080/files');
      expect(local.outputs.map((url) => url.replace('http://127.0.0.1:8080/files', 'https://host'))).toEqual(
        own.outputs.map((url) => url.replace(/^https:\/\/[^/]+/, 'https://host')),
      );
    }
  });

  it('gives downloads and credits only to completed events, and the error only to errored ones', () => {
    const random = seededRandom(99);
    for (const media of MEDIA) {
      const project = randomProject(media, random, createdAt);
      const payloadOf = (action: EventAction) => JSON.parse(projectEventBody(`${media}.${action}`, project, at)).payload;
      const started = payloadOf('started');
      const completed = payloadOf('completed');
      const errored = payloadOf('errored');
      expect(started).toMatchObject({ id: project.id, status: 'rendering', downloads: [], error: null, credits_charged: 0 });
      expect(completed).toMatchObject({ status: 'complete', error: null, credits_charged: project.creditsCharged });
      expect(completed.downloads).toHaveLength(project.outputs.length);
      for (const download of completed.downloads) {
        expect(download.expires_at).toBe(new Date(at.getTime() + DOWNLOAD_TTL_MS).toISOString());
      }
      expect(errored).toMatchObject({ status: 'error', downloads: [], error: project.error, credits_charged: 0 });
      if (media === 'image') expect(completed.image_count).toBe(completed.downloads.length);
      if (media === 'video') expect(completed).toHaveProperty('fps');
      expect(started.created_at).toBe(createdAt.toISOString());
    }
  });

  it('makes 25-character lowercase cuid-like ids that do not repeat', () => {
    const ids = Array.from({ length: 1000 }, projectId);
    for (const id of ids) expect(id).toMatch(/^c[0-9a-z]{24}$/);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
