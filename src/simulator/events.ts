import { randomBytes } from 'node:crypto';
import { EVENT_TYPES, type EventAction, type MagicHourEventType, type Media } from '../magic-hour/magic-hour-event.types.js';
import { between, chance, pick, type Random } from './random.js';

/**
 * Event bodies as Magic Hour sends them: `{"type":"<media>.<action>","payload":{...}}` where the payload
 * has the shape of `GET /v1/{video,image,audio}-projects/:id` at the time of the event. Used by `mh`,
 * the benchmark and (with fixed values) the tests.
 */

/** The nine event types, in media order: every `mh` command and test covers all of them. */
export const ALL_TYPES: readonly MagicHourEventType[] = EVENT_TYPES;

/** How long Magic Hour keeps an output downloadable after the render (about a day). */
export const DOWNLOAD_TTL_MS = 24 * 60 * 60 * 1000;

const CUID_ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz';

/**
 * A fresh project id shaped like Magic Hour's cuids (`c` and 24 lowercase base-36 characters). Always
 * from the crypto generator, even in a seeded simulation, so that a replay never collides with the jobs
 * an earlier run stored.
 */
export function projectId(): string {
  return `c${Array.from(randomBytes(24), (byte) => CUID_ALPHABET[byte % 36]).join('')}`;
}

/** A Magic Hour project as it will be at the end of its render; each event shows it at one moment. */
export interface Project {
  id: string;
  media: Media;
  /** Magic Hour's project type, such as `TEXT_TO_VIDEO`. */
  type: string;
  name: string | null;
  createdAt: Date;
  /** What the finished render costs; `0` until then and after an error. */
  creditsCharged: number;
  /** The rendered files; each `completed` event gives them an expiry. */
  outputs: string[];
  /** Why the render failed, sent by an `errored` event. */
  error: { code: string; message: string };
  /** The fields only this media has, in the payload's own snake_case (`width`, `image_count`). */
  extra: Record<string, unknown>;
}

const STATUS_AT: Record<EventAction, string> = { started: 'rendering', completed: 'complete', errored: 'error' };

/** The payload of the `action` event about `project`, sent at `at`. */
export function projectPayload(project: Project, action: EventAction, at: Date): Record<string, unknown> {
  return {
    id: project.id,
    name: project.name,
    status: STATUS_AT[action],
    type: project.type,
    created_at: project.createdAt.toISOString(),
    enabled: true,
    credits_charged: action === 'completed' ? project.creditsCharged : 0,
    downloads:
      action === 'completed'
        ? project.outputs.map((url) => ({ url, expires_at: new Date(at.getTime() + DOWNLOAD_TTL_MS).toISOString() }))
        : [],
    error: action === 'errored' ? project.error : null,
    ...project.extra,
  };
}

/** The `type` event about `project`, sent at `at`, as the exact string that is signed and sent. */
export function projectEventBody(type: MagicHourEventType, project: Project, at: Date, overrides: Record<string, unknown> = {}): string {
  const action = type.slice(type.indexOf('.') + 1) as EventAction;
  return JSON.stringify({ type, payload: { ...projectPayload(project, action, at), ...overrides } });
}

interface Catalogue {
  types: readonly string[];
  names: readonly string[];
  errors: ReadonlyArray<{ code: string; message: string }>;
}

// Illustrative values in the shape of Magic Hour's API; the codes and messages are not an official list.
const CATALOGUE: Record<Media, Catalogue> = {
  video: {
    types: ['TEXT_TO_VIDEO', 'IMAGE_TO_VIDEO', 'ANIMATION', 'FACE_SWAP', 'LIP_SYNC', 'VIDEO_TO_VIDEO', 'TALKING_PHOTO'],
    names: ['Launch teaser', 'Product demo v2', 'Birthday clip', 'Ad cut 15s'],
    errors: [
      { code: 'no_source_face', message: 'No face was found in the source image.' },
      { code: 'render_failed', message: 'The render failed. Your credits have been refunded.' },
      { code: 'invalid_asset', message: 'The input video could not be decoded.' },
    ],
  },
  image: {
    types: ['AI_IMAGE', 'AI_HEADSHOT', 'FACE_SWAP', 'IMAGE_UPSCALER', 'PHOTO_EDITOR', 'BACKGROUND_REMOVER'],
    names: ['Team headshots', 'Cat in sunglasses', 'Poster artwork', 'Avatar set'],
    errors: [
      { code: 'content_moderation', message: 'The prompt was flagged by content moderation.' },
      { code: 'render_failed', message: 'The render failed. Your credits have been refunded.' },
    ],
  },
  audio: {
    types: ['VOICE_GENERATOR', 'VOICE_CHANGER'],
    names: ['Podcast intro', 'Narration take 3', 'Voicemail greeting'],
    errors: [
      { code: 'render_failed', message: 'The render failed. Your credits have been refunded.' },
      { code: 'invalid_asset', message: 'The input audio could not be decoded.' },
    ],
  },
};

const VIDEO_SIZES: ReadonlyArray<[number, number]> = [
  [1920, 1080],
  [1080, 1920],
  [1280, 720],
  [1024, 1024],
];

/**
 * A plausible project of `media` created at `createdAt`: a project type of that media, a name (or none,
 * as for most API-created projects), its outputs and media fields, and the error it would fail with.
 * Its outputs are on Magic Hour's hosts, or under `outputsUrl` (`<outputsUrl>/<id>/<file>`) when given.
 */
export function randomProject(media: Media, random: Random, createdAt: Date, id: string = projectId(), outputsUrl?: string): Project {
  const catalogue = CATALOGUE[media];
  // Magic Hour's own hosts, or, with `outputsUrl`, a server of the user's (to try the download handler).
  const output = (host: string, file: string) =>
    outputsUrl === undefined ? `https://${host}/${id}/${file}` : `${outputsUrl}/${id}/${file}`;
  const type = pick(random, catalogue.types);
  const base = {
    id,
    media,
    type,
    name: chance(random, 0.5) ? pick(random, catalogue.names) : null,
    createdAt,
    error: pick(random, catalogue.errors),
  };
  if (media === 'video') {
    const [width, height] = pick(random, VIDEO_SIZES);
    const fps = pick(random, [24, 30]);
    const seconds = between(random, 3, 30);
    return {
      ...base,
      creditsCharged: seconds * fps,
      outputs: [output('videos.magichour.ai', 'output.mp4')],
      extra: { width, height, fps, start_seconds: 0, end_seconds: seconds },
    };
  }
  if (media === 'image') {
    const count = type === 'AI_IMAGE' || type === 'AI_HEADSHOT' ? between(random, 1, 4) : 1;
    return {
      ...base,
      creditsCharged: 5 * count,
      outputs: Array.from({ length: count }, (_, n) => output('images.magichour.ai', `output-${n + 1}.png`)),
      extra: { image_count: count },
    };
  }
  return {
    ...base,
    creditsCharged: between(random, 10, 200),
    outputs: [output('audio.magichour.ai', 'output.mp3')],
    extra: {},
  };
}
