import { Inject, Injectable } from '@nestjs/common';
import magicHour from 'magic-hour';
import { APP_CONFIG, type AppConfig, type ReconcileConfig } from '../config/app.config.js';
import type { Media } from './magic-hour-event.types.js';

/** A project's status as Magic Hour's API reports it. */
export type ApiProjectStatus = 'draft' | 'queued' | 'rendering' | 'complete' | 'error' | 'canceled';

/** Why an API call is to be tried again later (its `outcome` label in the metrics). */
export type RetryableOutcome = 'rate_limited' | 'server_error' | 'timeout' | 'unreadable' | 'network_error' | 'http_error';

/** What one call to `GET /v1/{media}-projects/:id` told, or why it told nothing. */
export type ApiReading =
  /** The project: `payload` in the shape of a webhook's payload (snake_case, as the API sends it). */
  | { kind: 'project'; status: ApiProjectStatus; payload: Record<string, unknown> }
  /** 404: Magic Hour does not know the id. */
  | { kind: 'not_found' }
  /** 401 or 402: the key or the account is refused; asking about other jobs cannot help. */
  | { kind: 'refused'; httpStatus: number; detail: string }
  /** Nothing usable now; `retryAfterMs` is what the API asked for (`Retry-After`), when it did. */
  | { kind: 'retry'; outcome: RetryableOutcome; detail: string; retryAfterMs: number | null };

/** The outcome label of a reading, for metrics and the job's `reconciliation.lastOutcome`. */
export function outcomeOf(reading: ApiReading): string {
  if (reading.kind === 'project') return 'answered';
  if (reading.kind === 'not_found') return 'not_found';
  if (reading.kind === 'refused') return reading.httpStatus === 402 ? 'payment_required' : 'unauthorized';
  return reading.outcome;
}

/** Every outcome label `outcomeOf` gives. */
export const API_CALL_OUTCOMES = [
  'answered',
  'not_found',
  'unauthorized',
  'payment_required',
  'rate_limited',
  'server_error',
  'timeout',
  'unreadable',
  'network_error',
  'http_error',
] as const;

/** `Retry-After` (seconds, or an HTTP date) in milliseconds from `now`, or `null` when absent or unreadable. */
export function retryAfterMs(header: string | null | undefined, now = Date.now()): number | null {
  if (!header) return null;
  const text = header.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

type SdkClient = InstanceType<typeof magicHour.default>;
type SdkProject = Awaited<ReturnType<SdkClient['v1']['videoProjects']['get']>>;
type SdkImageProject = Awaited<ReturnType<SdkClient['v1']['imageProjects']['get']>>;
type SdkAudioProject = Awaited<ReturnType<SdkClient['v1']['audioProjects']['get']>>;
type AnyProject = SdkProject | SdkImageProject | SdkAudioProject;

/** The SDK's (camelCase) project as the payload a webhook would carry (snake_case). */
export function toWebhookPayload(media: Media, project: AnyProject): Record<string, unknown> {
  const payload: Record<string, unknown> = {
    id: project.id,
    name: project.name,
    status: project.status,
    type: project.type,
    created_at: project.createdAt,
    enabled: project.enabled,
    credits_charged: project.creditsCharged,
    downloads: project.downloads.map((download) => ({ url: download.url, expires_at: download.expiresAt })),
    error: project.error ? { code: project.error.code, message: project.error.message } : null,
  };
  if (media === 'video') {
    const video = project as SdkProject;
    Object.assign(payload, {
      width: video.width,
      height: video.height,
      fps: video.fps,
      start_seconds: video.startSeconds,
      end_seconds: video.endSeconds,
    });
  } else if (media === 'image') {
    payload.image_count = (project as SdkImageProject).imageCount;
  }
  return payload;
}

/** What a thrown error looks like from the outside: the SDK's `ApiError`, zod's, node-fetch's. */
interface ThrownShape {
  name?: string;
  type?: string;
  code?: string;
  message?: string;
  response?: { status?: number; headers?: { get(name: string): string | null } };
}

/** Classifies what the SDK threw. */
export function readingOfError(thrown: unknown): ApiReading {
  const error = (typeof thrown === 'object' && thrown !== null ? thrown : { message: String(thrown) }) as ThrownShape;
  const status = error.response?.status;
  if (typeof status === 'number') {
    const detail = `HTTP ${status}`;
    if (status === 404) return { kind: 'not_found' };
    if (status === 401 || status === 402) return { kind: 'refused', httpStatus: status, detail };
    const retryAfter = retryAfterMs(error.response?.headers?.get('retry-after'));
    if (status === 429) return { kind: 'retry', outcome: 'rate_limited', detail, retryAfterMs: retryAfter };
    if (status >= 500) return { kind: 'retry', outcome: 'server_error', detail, retryAfterMs: retryAfter };
    return { kind: 'retry', outcome: 'http_error', detail, retryAfterMs: retryAfter };
  }
  if (error.name === 'AbortError' || error.type === 'aborted' || error.name === 'TimeoutError') {
    return { kind: 'retry', outcome: 'timeout', detail: 'no answer within the timeout', retryAfterMs: null };
  }
  if (error.name === 'ZodError' || error.name === 'SyntaxError' || error.type === 'invalid-json') {
    // The SDK refused the answer's shape: unreadable now, not the project's state.
    return {
      kind: 'retry',
      outcome: 'unreadable',
      detail: `unreadable answer: ${(error.message ?? '').slice(0, 300)}`,
      retryAfterMs: null,
    };
  }
  return { kind: 'retry', outcome: 'network_error', detail: error.code ?? error.message ?? 'request failed', retryAfterMs: null };
}

/** Thrown by the timer that bounds a whole call, body included. */
class CallTimeoutError extends Error {
  override readonly name = 'TimeoutError';
}

/**
 * Magic Hour's API through the official SDK (`magic-hour`): one project at a time, never retried by
 * the SDK (the reconciler decides when to ask again, within the deployment's budget), each call
 * bounded by `MAGIC_HOUR_API_TIMEOUT_MS` from request to parsed body. It never throws: every answer,
 * and every failure, is an `ApiReading`.
 */
@Injectable()
export class MagicHourApiClient {
  private readonly settings: ReconcileConfig | null;
  private readonly client: SdkClient | null;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.settings = config.reconcile;
    this.client = this.settings ? new magicHour.default({ token: this.settings.apiKey, baseUrl: this.settings.apiUrl }) : null;
  }

  /** Whether an API key is configured. */
  get enabled(): boolean {
    return this.client !== null;
  }

  /** Asks `GET /v1/{media}-projects/{id}`. */
  async getProject(media: Media, id: string): Promise<ApiReading> {
    if (!this.client || !this.settings) return { kind: 'refused', httpStatus: 401, detail: 'MAGIC_HOUR_API_KEY is not set' };
    const timeoutMs = this.settings.apiTimeoutMs;
    const options = { timeout: timeoutMs, retries: { maxRetries: 0 } };
    const resources = { video: this.client.v1.videoProjects, image: this.client.v1.imageProjects, audio: this.client.v1.audioProjects };
    let timer: NodeJS.Timeout | undefined;
    try {
      const call = Promise.resolve(resources[media].get({ id }, options) as Promise<AnyProject>);
      // A call that fails after the deadline has nobody left to tell.
      call.catch(() => undefined);
      // The SDK's own timeout ends when the headers arrive; this one also bounds reading the body.
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new CallTimeoutError('timeout')), timeoutMs + 50);
      });
      const project = await Promise.race([call, deadline]);
      return { kind: 'project', status: project.status, payload: toWebhookPayload(media, project) };
    } catch (error) {
      return readingOfError(error);
    } finally {
      clearTimeout(timer);
    }
  }
}
