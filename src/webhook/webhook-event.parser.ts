import { Injectable } from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import { validateSync, type ValidationError } from 'class-validator';
import { createHash } from 'node:crypto';
import {
  PROJECT_ID_MAX_LENGTH,
  AudioPayloadDto,
  ImagePayloadDto,
  ProjectPayloadDto,
  VideoPayloadDto,
} from '../magic-hour/dto/project-payload.dto.js';
import { compileValidator } from './dto/compiled-validator.js';
import { EVENT_TYPE_MAX_LENGTH, WebhookEnvelopeDto } from '../magic-hour/dto/webhook-envelope.dto.js';
import { isKnownEventType, mediaOf, type Media, type MagicHourEventType } from '../magic-hour/magic-hour-event.types.js';

const PAYLOAD_DTOS: Record<Media, new () => ProjectPayloadDto> = {
  video: VideoPayloadDto,
  image: ImagePayloadDto,
  audio: AudioPayloadDto,
};

const CHECK_ENVELOPE = compileValidator(WebhookEnvelopeDto);
const CHECKS = new Map([ProjectPayloadDto, ...Object.values(PAYLOAD_DTOS)].map((dto) => [dto, compileValidator(dto)] as const));

/** A body that is a known event with a valid payload: processed. */
export interface ValidEvent {
  readonly kind: 'valid';
  readonly eventKey: string;
  readonly type: MagicHourEventType;
  readonly media: Media;
  readonly projectId: string;
  readonly payload: Record<string, unknown>;
  /** `payload` as the JSON text to store. */
  readonly payloadJson: string;
}

/** A well-formed event of a type we do not know (yet): stored as `ignored`. */
export interface UnknownEvent {
  readonly kind: 'unknown';
  readonly eventKey: string;
  readonly type: string;
  readonly media: Media | 'unknown';
  readonly projectId: string;
  readonly payload: Record<string, unknown>;
  /** `payload` as the JSON text to store. */
  readonly payloadJson: string;
}

/** A body that is not a valid event: quarantined when signed, refused when not. */
export interface InvalidEvent {
  readonly kind: 'invalid';
  readonly eventKey: string;
  readonly type: string;
  readonly media: Media | 'unknown';
  readonly projectId: string | null;
  /** The whole body as JSON text to store: the parsed JSON, or a JSON string when it is not JSON. */
  readonly payloadJson: string;
  readonly errors: readonly string[];
}

/** What a webhook body turned out to be. */
export type ParsedEvent = ValidEvent | UnknownEvent | InvalidEvent;

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

function flatten(errors: readonly ValidationError[], path: string): string[] {
  return errors.flatMap((error) => {
    const here = path ? `${path}.${error.property}` : error.property;
    const own = Object.values(error.constraints ?? {}).map((message) =>
      message.startsWith(error.property) ? `${here}${message.slice(error.property.length)}` : `${here}: ${message}`,
    );
    return [...own, ...flatten(error.children ?? [], here)];
  });
}

// Postgres's jsonb cannot hold NUL characters or unpaired surrogates; JSON.stringify writes both as
// \u escapes (and a literal backslash as \\), so an escape after an even run of backslashes is one.
const UNSTORABLE_JSON = /(?:^|[^\\])(?:\\\\)*\\u(?:0000|d[89a-f][0-9a-f]{2})/i;

/** `value` as JSON text Postgres can store, or `null` when it holds what jsonb refuses. */
export function storableJson(value: unknown): string | null {
  let json: string;
  try {
    json = JSON.stringify(value);
  } catch {
    // Nesting deep enough to overflow the stack: keep the bytes instead.
    return null;
  }
  return UNSTORABLE_JSON.test(json) ? null : json;
}

/** A run of digits a double cannot hold exactly, or an exponent that may overflow one. */
const LOSSY_NUMBER = /\d{16,}|\d[eE][+-]?\d{3,}/;

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** A key part taken from an invalid body: printable ASCII only, so that any text column can hold it. */
const keyPart = (value: unknown, max: number): string | null =>
  typeof value === 'string' && value.length <= max && /^[\x21-\x7e]+$/.test(value) ? value : null;

/**
 * Turns a raw webhook body into a `ParsedEvent`. It never throws: whatever arrives is classified,
 * so that a signed but unexpected body can be kept (quarantined) instead of lost.
 */
@Injectable()
export class WebhookEventParser {
  parse(body: Buffer): Promise<ParsedEvent> {
    // Classification is synchronous; the Promise is the interface the pipe and the services await.
    try {
      return Promise.resolve(this.classify(body));
    } catch (error) {
      // A body hostile enough to break classification (say, nesting that overflows the stack) is
      // still kept, as bytes, rather than answered 500 until Magic Hour gives up on it.
      return Promise.resolve(this.invalid(body, [`body could not be processed: ${(error as Error).message}`], undefined));
    }
  }

  private classify(body: Buffer): ParsedEvent {
    let text: string;
    try {
      text = utf8.decode(body);
    } catch {
      return this.invalid(body, ['body is not valid UTF-8'], undefined);
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return this.invalid(body, ['body is not valid JSON'], text);
    }
    if (!isRecord(json)) {
      return this.invalid(body, ['body must be a JSON object'], json);
    }

    // The compiled checks answer yes or no with the DTOs' own rules; only a "no" pays for
    // class-transformer and class-validator, to say what is wrong.
    if (!CHECK_ENVELOPE(json)) {
      const envelope = Object.assign(new WebhookEnvelopeDto(), { type: json.type, payload: json.payload });
      return this.invalid(body, flatten(validateSync(envelope), ''), json);
    }
    const type = json.type as string;
    const payload = json.payload as Record<string, unknown>;
    const media = mediaOf(type);
    const dtoClass = media === 'unknown' ? ProjectPayloadDto : PAYLOAD_DTOS[media];
    if (!CHECKS.get(dtoClass)!(payload)) {
      const dto = plainToInstance(dtoClass, payload, { excludeExtraneousValues: true });
      return this.invalid(body, flatten(validateSync(dto), 'payload'), json);
    }
    const projectId = payload.id as string;

    const payloadJson = storableJson(payload);
    if (payloadJson === null) {
      return this.invalid(body, ['payload holds NUL characters or unpaired surrogates, which cannot be stored as JSON'], json);
    }
    const eventKey = `${type}:${projectId}`;
    if (isKnownEventType(type)) {
      return { kind: 'valid', eventKey, type, media: media as Media, projectId, payload, payloadJson };
    }
    return { kind: 'unknown', eventKey, type, media, projectId, payload, payloadJson };
  }

  /**
   * Describes a body that is not a valid event. `stored` is what to keep of it: the parsed JSON, or the
   * text when it is not JSON; whatever cannot be stored as JSON text (or `undefined`) is kept as base64.
   */
  private invalid(body: Buffer, errors: string[], stored: unknown): InvalidEvent {
    const envelope = isRecord(stored) ? stored : {};
    const type = keyPart(envelope.type, EVENT_TYPE_MAX_LENGTH);
    const projectId = isRecord(envelope.payload) ? keyPart(envelope.payload.id, PROJECT_ID_MAX_LENGTH) : null;
    const eventKey =
      type !== null && projectId !== null ? `${type}:${projectId}` : `quarantine:${createHash('sha256').update(body).digest('hex')}`;
    // JSON.parse reads a number beyond a double (1e400, a 20-digit integer) as Infinity or a rounded
    // value, and JSON.stringify writes Infinity as null: such a body is kept as its exact text.
    // A body of just `null` is kept as its text too: a JSON null would read as a missing payload.
    const kept =
      stored === null || (typeof stored === 'object' && LOSSY_NUMBER.test(body.toString('utf8'))) ? body.toString('utf8') : stored;
    const payloadJson = (kept === undefined ? null : storableJson(kept)) ?? JSON.stringify(`base64:${body.toString('base64')}`);
    return {
      kind: 'invalid',
      eventKey,
      type: type ?? 'unknown',
      media: type === null ? 'unknown' : mediaOf(type),
      projectId,
      payloadJson,
      errors,
    };
  }
}
