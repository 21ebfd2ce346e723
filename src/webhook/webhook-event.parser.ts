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
import { JSON_DEPTH_MAX, nestedDeeperThan } from './json-nesting.js';
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

/**
 * `value` as JSON text Postgres can store, or `null` when it holds what jsonb refuses. With `marked`,
 * the number markers `readNumbers` put in are written back as the numbers they stand for.
 */
export function storableJson(value: unknown, marked = false): string | null {
  let json: string;
  try {
    json = JSON.stringify(value);
  } catch {
    // Nesting deep enough to overflow the stack: keep the bytes instead.
    return null;
  }
  if (marked) json = json.replace(MARKED_NUMBER, '$1');
  return UNSTORABLE_JSON.test(json) ? null : json;
}

/**
 * A cheap test of the raw text for a number a double may not hold: 16 digits (a dot may be among
 * them) or a 3-digit exponent. It may also match inside strings; `readNumbers` then looks closer.
 */
const LOSSY_NUMBER = /[\d.]{16}|[eE][+-]?\d{3}/;

/** The tokens of JSON text that matter here: strings (skipped whole, so digits in them do not count) and numbers. */
const STRINGS_AND_NUMBERS = /"[^"\\]*(?:\\.[^"\\]*)*"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/g;

/** Longest number kept as a number; Postgres's numeric holds at most 16,383 digits after the point. */
const NUMBER_LENGTH_MAX = 100;

/** The smallest positive normal double: below it a double keeps fewer digits. */
const DOUBLE_MIN_NORMAL = 2.2250738585072014e-308;

/** What the numbers of a JSON text are, as `readNumbers` finds them. */
interface NumberReading {
  /** Why the body is to be kept as text: a number no double holds even roughly (it overflows or underflows), or one too long. */
  problem: string | null;
  /** The text with every number a double would not hold as sent replaced by a marker string, or `null` when there is none. */
  marked: string | null;
}

/** `"\u0000<number>"`: a marker JSON.parse reads as a string and JSON.stringify writes back the same. */
const MARKED_NUMBER = /"\\u0000(-?\d[\d.eE+-]*)"/g;

/** Reads the number tokens of valid JSON text (only called when `LOSSY_NUMBER` matched it). */
function readNumbers(text: string): NumberReading {
  let problem: string | null = null;
  let last = 0;
  const parts: string[] = [];
  for (const match of text.matchAll(STRINGS_AND_NUMBERS)) {
    const token = match[0];
    if (token.startsWith('"')) continue;
    const value = Math.abs(Number(token));
    const [mantissa] = token.split(/[eE]/);
    const digits = mantissa.replace(/[-.]/g, '').replace(/^0+/, '').replace(/0+$/, '');
    const beyond = token.length > NUMBER_LENGTH_MAX || !Number.isFinite(value) || (value < DOUBLE_MIN_NORMAL && digits !== '');
    if (beyond && problem === null) {
      problem = `body holds a number no double holds, ${token.length > 40 ? `${token.slice(0, 40)}...` : token}: kept as its text`;
    }
    if (beyond || digits.length > 15) {
      parts.push(text.slice(last, match.index), `"\\u0000${token}"`);
      last = match.index + token.length;
    }
  }
  if (parts.length === 0) return { problem, marked: null };
  // A NUL of the body's own would read as a marker; such a payload could not be stored anyway.
  if (/\\u0000/i.test(text)) return { problem: 'body holds NUL characters, which cannot be stored as JSON', marked: null };
  parts.push(text.slice(last));
  return { problem, marked: parts.join('') };
}

/** Most validation messages kept for one body, and the longest one kept whole. */
const MESSAGES_MAX = 20;
const MESSAGE_LENGTH_MAX = 300;

/**
 * Items of each payload array that the messages describe: class-validator writes one message per bad
 * item, and takes its time over tens of thousands of them.
 */
const DESCRIBED_ITEMS_MAX = 20;

/** At most `MESSAGES_MAX` messages of at most `MESSAGE_LENGTH_MAX` characters, and how many more there were. */
function capMessages(messages: readonly string[]): string[] {
  const kept = messages.slice(0, MESSAGES_MAX).map((message) => {
    if (message.length <= MESSAGE_LENGTH_MAX) return message;
    // Not cut inside a surrogate pair: a lone surrogate is what Postgres's JSON refuses.
    const cut = message.slice(0, MESSAGE_LENGTH_MAX - 3).replace(/[\ud800-\udbff]$/, '');
    return `${cut}...`;
  });
  if (messages.length > MESSAGES_MAX) kept.push(`... and ${messages.length - MESSAGES_MAX} more`);
  return kept;
}

/** Why `payload` breaks `dtoClass`'s rules, describing only the first `DESCRIBED_ITEMS_MAX` items of each of its arrays. */
function describePayload(dtoClass: new () => ProjectPayloadDto, payload: Record<string, unknown>): string[] {
  const described: Record<string, unknown> = { ...payload };
  const notes: string[] = [];
  for (const [key, value] of Object.entries(payload)) {
    if (Array.isArray(value) && value.length > DESCRIBED_ITEMS_MAX) {
      described[key] = value.slice(0, DESCRIBED_ITEMS_MAX);
      notes.push(`payload.${key} has ${value.length} items; only the first ${DESCRIBED_ITEMS_MAX} were described`);
    }
  }
  const dto = plainToInstance(dtoClass, described, { excludeExtraneousValues: true });
  return [...notes, ...flatten(validateSync(dto), 'payload')];
}

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
    if (nestedDeeperThan(json, JSON_DEPTH_MAX)) {
      return this.invalid(body, [`body is nested deeper than ${JSON_DEPTH_MAX} levels`], json, true);
    }
    if (!isRecord(json)) {
      // Kept as its exact text: a bare number may be one no double holds, and a JSON null would read as no payload.
      return this.invalid(body, ['body must be a JSON object'], Array.isArray(json) ? json : text);
    }
    const numbers = LOSSY_NUMBER.test(text) ? readNumbers(text) : null;
    const numberProblems = numbers?.problem ? [numbers.problem] : [];
    // Numbers a double would not hold as sent are read as marker strings, so that `payloadJson` writes
    // them as sent (Postgres's jsonb keeps them exactly) and a checked field holding one fails its check.
    const marked = numbers?.marked ? (JSON.parse(numbers.marked) as Record<string, unknown>) : json;

    // The compiled checks answer yes or no with the DTOs' own rules; only a "no" pays for
    // class-transformer and class-validator, to say what is wrong.
    if (!CHECK_ENVELOPE(marked)) {
      const envelope = Object.assign(new WebhookEnvelopeDto(), { type: marked.type, payload: marked.payload });
      return this.invalid(body, [...numberProblems, ...flatten(validateSync(envelope), '')], json);
    }
    const type = marked.type as string;
    const payload = marked.payload as Record<string, unknown>;
    const media = mediaOf(type);
    const dtoClass = media === 'unknown' ? ProjectPayloadDto : PAYLOAD_DTOS[media];
    if (!CHECKS.get(dtoClass)!(payload)) {
      return this.invalid(body, [...numberProblems, ...describePayload(dtoClass, payload)], json);
    }
    if (numberProblems.length > 0) return this.invalid(body, numberProblems, json, true);
    const projectId = payload.id as string;

    const payloadJson = storableJson(payload, numbers?.marked != null);
    if (payloadJson === null) {
      return this.invalid(body, ['payload holds NUL characters or unpaired surrogates, which cannot be stored as JSON'], json);
    }
    const eventKey = `${type}:${projectId}`;
    const parsed = json.payload as Record<string, unknown>;
    if (isKnownEventType(type)) {
      return { kind: 'valid', eventKey, type, media: media as Media, projectId, payload: parsed, payloadJson };
    }
    return { kind: 'unknown', eventKey, type, media, projectId, payload: parsed, payloadJson };
  }

  /**
   * Describes a body that is not a valid event. `stored` is what to keep of it: the parsed JSON, or the
   * text when it is not JSON; whatever cannot be stored as JSON text (or `undefined`) is kept as base64.
   * With `asText` (or when its numbers may not survive a double), the parsed JSON gives only the key,
   * and the body is kept as its exact text.
   */
  private invalid(body: Buffer, errors: string[], stored: unknown, asText = false): InvalidEvent {
    const envelope = isRecord(stored) ? stored : {};
    const type = keyPart(envelope.type, EVENT_TYPE_MAX_LENGTH);
    const projectId = isRecord(envelope.payload) ? keyPart(envelope.payload.id, PROJECT_ID_MAX_LENGTH) : null;
    const eventKey =
      type !== null && projectId !== null ? `${type}:${projectId}` : `quarantine:${createHash('sha256').update(body).digest('hex')}`;
    // JSON.parse reads a number beyond a double (1e400, a 20-digit integer) as Infinity or a rounded
    // value, and JSON.stringify writes Infinity as null: such a body is kept as its exact text.
    const kept =
      typeof stored === 'object' && stored !== null && (asText || LOSSY_NUMBER.test(body.toString('utf8')))
        ? body.toString('utf8')
        : stored;
    const payloadJson = (kept === undefined ? null : storableJson(kept)) ?? JSON.stringify(`base64:${body.toString('base64')}`);
    return {
      kind: 'invalid',
      eventKey,
      type: type ?? 'unknown',
      media: type === null ? 'unknown' : mediaOf(type),
      projectId,
      payloadJson,
      errors: capMessages(errors),
    };
  }
}
