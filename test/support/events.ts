import type { EventAction, Media as EventMedia } from '../../src/magic-hour/magic-hour-event.types.js';
import { projectEventBody, projectPayload, type Project } from '../../src/simulator/events.js';

/**
 * Fixed-value events for assertions: the builders are `mh`'s own (src/simulator/events.ts), with a
 * project whose every field is known in advance.
 */
export { ALL_TYPES, projectId } from '../../src/simulator/events.js';

export type Media = EventMedia;
export type Action = EventAction;

const CREATED_AT = new Date('2026-11-27T10:00:00.000Z');
const PROJECT_TYPES: Record<Media, string> = { video: 'TEXT_TO_VIDEO', image: 'AI_IMAGE', audio: 'VOICE_GENERATOR' };

/**
 * The fixture project `id` of `media`: named `<media> test project`, created 2026-11-27T10:00Z, 120
 * credits, one output at `https://<media>s.magichour.ai/id/<id>/output` expiring a day later.
 */
function fixtureProject(media: Media, id: string): Project {
  return {
    id,
    media,
    type: PROJECT_TYPES[media],
    name: `${media} test project`,
    createdAt: CREATED_AT,
    creditsCharged: 120,
    outputs: [`https://${media}s.magichour.ai/id/${id}/output`],
    error: { code: 'render_failed', message: 'The render failed' },
    extra:
      media === 'video'
        ? { width: 1280, height: 720, fps: 30, start_seconds: 0, end_seconds: 5 }
        : media === 'image'
          ? { image_count: 1 }
          : {},
  };
}

/** A realistic payload, shaped like `GET /v1/{media}-projects/:id`, for one event. */
export function payload(media: Media, action: Action, id: string): Record<string, unknown> {
  return projectPayload(fixtureProject(media, id), action, CREATED_AT);
}

/** A webhook body for `type` about project `id`, as the exact string that is signed and sent. */
export function eventBody(type: `${Media}.${Action}`, id: string, overrides: Record<string, unknown> = {}): string {
  const media = type.slice(0, type.indexOf('.')) as Media;
  return projectEventBody(type, fixtureProject(media, id), CREATED_AT, overrides);
}
