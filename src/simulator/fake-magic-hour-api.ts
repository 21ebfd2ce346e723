import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Media } from '../magic-hour/magic-hour-event.types.js';
import { DOWNLOAD_TTL_MS, type Project } from './events.js';

/**
 * A local stand-in for Magic Hour's API (`GET /v1/{video|image|audio}-projects/:id`), for tests and
 * `mh simulate`: point the SDK's `baseUrl` (`MAGIC_HOUR_API_URL`) at `url`. Each project is scripted
 * with the answers it gives, in order (the last one repeats); every request is recorded with its time.
 */

/** A project's status as Magic Hour's API reports it. */
export const API_PROJECT_STATUSES = ['draft', 'queued', 'rendering', 'complete', 'error', 'canceled'] as const;
/** A project's status as Magic Hour's API reports it. */
export type ApiProjectStatus = (typeof API_PROJECT_STATUSES)[number];

/** One scripted answer of the fake API. */
export interface FakeAnswer {
  /** HTTP status; 200 by default. */
  status?: number;
  /** Sent as JSON; ignored when `rawBody` is given. */
  body?: unknown;
  /** Sent as it is, with `content-type: application/json` (for malformed answers). */
  rawBody?: string;
  headers?: Record<string, string>;
  /** Waits this long before answering (a slow API; past the client's timeout it is a timeout). */
  delayMs?: number;
}

/** A request the fake API received. */
export interface FakeApiRequest {
  method: string;
  path: string;
  /** The media the path names, or `null` for a path the API does not have. */
  media: Media | null;
  /** The project id the path names, or `null`. */
  id: string | null;
  /** The `Authorization` header as sent. */
  authorization: string | null;
  /** When it arrived (`Date.now()`). */
  at: number;
  /** The status it was answered with. */
  answeredStatus: number;
}

/** Fields of a scripted project beyond its status; snake_case, as the API sends them. */
export type ApiProjectFields = Record<string, unknown>;

const PROJECT_TYPES: Record<Media, string> = { video: 'TEXT_TO_VIDEO', image: 'AI_IMAGE', audio: 'VOICE_GENERATOR' };

/**
 * The body `GET /v1/{media}-projects/:id` answers for a project in `status`: every field Magic Hour's
 * schema (and so the SDK) requires, downloads when complete, an error when failed. `project` (the
 * simulator's) supplies the values when given; `fields` overrides any field.
 */
export function apiProjectBody(
  media: Media,
  id: string,
  status: ApiProjectStatus,
  fields: ApiProjectFields = {},
  project?: Project,
  now = new Date(),
): Record<string, unknown> {
  const outputs = project?.outputs ?? [`https://${media}s.magichour.ai/id/${id}/output`];
  const expiresAt = new Date(now.getTime() + DOWNLOAD_TTL_MS).toISOString();
  const downloads = status === 'complete' ? outputs.map((url) => ({ url, expires_at: expiresAt })) : [];
  const credits = status === 'complete' ? (project?.creditsCharged ?? 120) : 0;
  const base: Record<string, unknown> = {
    id,
    name: project ? project.name : `${media} project`,
    status,
    type: project?.type ?? PROJECT_TYPES[media],
    created_at: (project?.createdAt ?? new Date(now.getTime() - 60_000)).toISOString(),
    enabled: true,
    credits_charged: credits,
    downloads,
    error: status === 'error' ? (project?.error ?? { code: 'render_failed', message: 'The render failed' }) : null,
  };
  if (media === 'video') {
    Object.assign(base, { width: 1280, height: 720, fps: 30, start_seconds: 0, end_seconds: 5 }, project?.extra ?? {}, {
      download: downloads[0] ?? null,
      total_frame_cost: credits,
    });
  } else if (media === 'image') {
    Object.assign(base, { image_count: 1 }, project?.extra ?? {}, { total_frame_cost: credits });
  } else {
    Object.assign(base, project?.extra ?? {});
  }
  return { ...base, ...fields };
}

/** A 200 answer with the project in `status`. */
export function projectAnswer(
  media: Media,
  id: string,
  status: ApiProjectStatus,
  fields: ApiProjectFields = {},
  project?: Project,
): FakeAnswer {
  return { status: 200, body: apiProjectBody(media, id, status, fields, project) };
}

/** Magic Hour's answer for an id it does not know. */
export const notFoundAnswer = (): FakeAnswer => ({ status: 404, body: { message: 'Not Found' } });
/** The answer to a missing or wrong API key. */
export const unauthorizedAnswer = (): FakeAnswer => ({ status: 401, body: { message: 'Unauthorized' } });
/** The answer when the account has no credits or plan for the API. */
export const paymentRequiredAnswer = (): FakeAnswer => ({ status: 402, body: { message: 'Payment Required' } });
/** Too many requests; `retryAfterSeconds` goes in `Retry-After`. */
export const rateLimitedAnswer = (retryAfterSeconds: number): FakeAnswer => ({
  status: 429,
  body: { message: 'Too Many Requests' },
  headers: { 'retry-after': String(retryAfterSeconds) },
});
/** A server error. */
export const serverErrorAnswer = (status = 500): FakeAnswer => ({ status, body: { message: 'Internal Server Error' } });
/** `answer`, given after `delayMs`. */
export const slowAnswer = (answer: FakeAnswer, delayMs: number): FakeAnswer => ({ ...answer, delayMs });
/** A 200 whose body the SDK refuses: the project without its `status` (and `created_at`). */
export function malformedAnswer(media: Media, id: string): FakeAnswer {
  const { status: _status, created_at: _createdAt, ...rest } = apiProjectBody(media, id, 'complete');
  return { status: 200, body: rest };
}
/** A 200 that is not JSON at all. */
export const garbledAnswer = (): FakeAnswer => ({ status: 200, rawBody: '{"id": "cut off' });

/** Options of `startFakeMagicHourApi`. */
export interface FakeMagicHourApiOptions {
  /** Port to listen on; a free one when 0 or absent. */
  port?: number;
  host?: string;
  /** When set, a request without `Authorization: Bearer <token>` is answered 401. */
  token?: string;
  /** The answer for a project nothing was scripted for; 404 by default. */
  fallback?: FakeAnswer;
}

/** A running fake of Magic Hour's API. */
export interface FakeMagicHourApi {
  /** Base URL, such as `http://127.0.0.1:43121`: the SDK's `baseUrl`, `MAGIC_HOUR_API_URL`. */
  readonly url: string;
  /** Scripts a project: its answers in order; the last repeats. Replaces any earlier script. */
  script(media: Media, id: string, ...answers: [FakeAnswer, ...FakeAnswer[]]): void;
  /** Scripts a project that answers in `status` from now on (sugar for `script(projectAnswer(...))`). */
  setStatus(media: Media, id: string, status: ApiProjectStatus, fields?: ApiProjectFields, project?: Project): void;
  /** Replaces the answer for projects nothing was scripted for. */
  setFallback(answer: FakeAnswer): void;
  /** Every request received so far, oldest first. */
  readonly requests: readonly FakeApiRequest[];
  /** The requests about project `id`. */
  requestsFor(id: string): FakeApiRequest[];
  /** Forgets the recorded requests (scripts stay). */
  clearRequests(): void;
  /** Stops listening and drops open connections (slow answers in flight are cut). */
  close(): Promise<void>;
}

const PROJECT_PATH = /^\/v1\/(video|image|audio)-projects\/([^/?#]+)\/?(?:\?.*)?$/;

/** Starts a fake of Magic Hour's project API on `127.0.0.1` (or `options.host`). */
export async function startFakeMagicHourApi(options: FakeMagicHourApiOptions = {}): Promise<FakeMagicHourApi> {
  const scripts = new Map<string, FakeAnswer[]>();
  const requests: FakeApiRequest[] = [];
  let fallback = options.fallback ?? notFoundAnswer();
  const keyOf = (media: Media, id: string) => `${media}:${id}`;

  const answerFor = (req: IncomingMessage, media: Media | null, id: string | null): FakeAnswer => {
    if (options.token !== undefined && req.headers.authorization !== `Bearer ${options.token}`) return unauthorizedAnswer();
    if (req.method !== 'GET' || media === null || id === null) return { status: 404, body: { message: 'Not Found' } };
    const queue = scripts.get(keyOf(media, id));
    if (!queue) return fallback;
    return queue.length > 1 ? queue.shift()! : queue[0];
  };

  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const at = Date.now();
    const match = PROJECT_PATH.exec(req.url ?? '');
    const media = match ? (match[1] as Media) : null;
    const id = match ? decodeURIComponent(match[2]) : null;
    const answer = answerFor(req, media, id);
    const status = answer.status ?? 200;
    requests.push({
      method: req.method ?? 'GET',
      path: req.url ?? '',
      media,
      id,
      authorization: req.headers.authorization ?? null,
      at,
      answeredStatus: status,
    });
    req.resume();
    const send = () => {
      if (res.destroyed) return;
      const text = answer.rawBody ?? JSON.stringify(answer.body ?? {});
      res.writeHead(status, { 'content-type': 'application/json', ...answer.headers });
      res.end(text);
    };
    if (answer.delayMs) setTimeout(send, answer.delayMs).unref();
    else send();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  return {
    url: `http://${host}:${address.port}`,
    script(media, id, ...answers) {
      scripts.set(keyOf(media, id), [...answers]);
    },
    setStatus(media, id, status, fields, project) {
      scripts.set(keyOf(media, id), [projectAnswer(media, id, status, fields, project)]);
    },
    setFallback(answer) {
      fallback = answer;
    },
    get requests() {
      return requests;
    },
    requestsFor(id) {
      return requests.filter((request) => request.id === id);
    },
    clearRequests() {
      requests.length = 0;
    },
    close() {
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
