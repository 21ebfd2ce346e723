import { randomBytes } from 'node:crypto';

export type Media = 'video' | 'image' | 'audio';
export type Action = 'started' | 'completed' | 'errored';

/** All nine event types Magic Hour sends. */
export const ALL_TYPES = (['video', 'image', 'audio'] as const).flatMap((media) =>
  (['started', 'completed', 'errored'] as const).map((action) => `${media}.${action}` as const),
);

/** A fresh cuid-like project id. */
export const projectId = (): string => `c${randomBytes(12).toString('hex').slice(0, 24)}`;

const PROJECT_TYPES: Record<Media, string> = { video: 'TEXT_TO_VIDEO', image: 'AI_IMAGE', audio: 'VOICE_GENERATOR' };
const STATUS: Record<Action, string> = { started: 'rendering', completed: 'complete', errored: 'error' };

/** A realistic payload, shaped like `GET /v1/{media}-projects/:id`, for one event. */
export function payload(media: Media, action: Action, id: string): Record<string, unknown> {
  const common = {
    id,
    name: `${media} test project`,
    status: STATUS[action],
    type: PROJECT_TYPES[media],
    created_at: '2026-11-27T10:00:00.000Z',
    enabled: true,
    credits_charged: action === 'completed' ? 120 : 0,
    downloads:
      action === 'completed'
        ? [{ url: `https://${media}s.magichour.ai/id/${id}/output`, expires_at: '2026-11-28T10:00:00.000Z' }]
        : [],
    error: action === 'errored' ? { code: 'render_failed', message: 'The render failed' } : null,
  };
  if (media === 'video') return { ...common, width: 1280, height: 720, fps: 30, start_seconds: 0, end_seconds: 5 };
  if (media === 'image') return { ...common, image_count: 1 };
  return common;
}

/** A webhook body for `type` about project `id`, as the exact string that is signed and sent. */
export function eventBody(type: `${Media}.${Action}`, id: string, overrides: Record<string, unknown> = {}): string {
  const [media, action] = type.split('.') as [Media, Action];
  return JSON.stringify({ type, payload: { ...payload(media, action, id), ...overrides } });
}
