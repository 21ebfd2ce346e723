import { describe, expect, it } from '@jest/globals';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { payload } from '../../../test/support/events.js';
import { compileValidator } from './compiled-validator.js';
import { AudioPayloadDto, ImagePayloadDto, ProjectPayloadDto, VideoPayloadDto } from '../../magic-hour/dto/project-payload.dto.js';
import { WebhookEnvelopeDto } from '../../magic-hour/dto/webhook-envelope.dto.js';

/** What class-validator itself decides, the way the parser's slow path asks it. */
const classValidatorAccepts = (cls: new () => object, value: Record<string, unknown>) =>
  validateSync(plainToInstance(cls, value, { excludeExtraneousValues: true })).length === 0;

// Values that sit on either side of the DTOs' rules.
const POOL: unknown[] = [
  undefined,
  null,
  '',
  ' ',
  'x',
  'ok-id',
  'has space',
  'a\u0000b',
  'x'.repeat(201),
  'x'.repeat(1001),
  'x'.repeat(20_001),
  0,
  -1,
  -(2 ** 31),
  1.5,
  7,
  2 ** 31 - 1,
  2 ** 31,
  Number.MAX_SAFE_INTEGER,
  1e19,
  2 ** 63,
  Infinity,
  NaN,
  true,
  false,
  [],
  [{}],
  [{ url: 'https://a.test/x' }],
  [{ url: `https://a.test/${'x'.repeat(5000)}`, expires_at: null }],
  [{ url: 'ftp://a.test/x' }],
  [{ url: 'https://a.test/x', expires_at: 'soon' }],
  ['https://a.test/x'],
  {},
  { code: 'E', message: 'm' },
  { code: 5 },
  '2026-11-27T10:00:00Z',
  '2026-11-27T10:00:00.123+02:00',
  '2026-11-27',
  '2026-13-40T10:00:00Z',
  '2026-W48-5',
  'https://a.test/x',
];
const FIELDS = [
  'id',
  'name',
  'status',
  'type',
  'created_at',
  'enabled',
  'credits_charged',
  'downloads',
  'error',
  'width',
  'height',
  'fps',
  'start_seconds',
  'end_seconds',
  'image_count',
  'extra',
];

/** A small deterministic PRNG, so a failure can be replayed. */
function random(seed: number) {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

describe(compileValidator.name, () => {
  const cases: Array<[string, new () => object, 'video' | 'image' | 'audio']> = [
    ['VideoPayloadDto', VideoPayloadDto, 'video'],
    ['ImagePayloadDto', ImagePayloadDto, 'image'],
    ['AudioPayloadDto', AudioPayloadDto, 'audio'],
    ['ProjectPayloadDto', ProjectPayloadDto, 'video'],
  ];

  it.each(cases)('decides exactly as class-validator for %s on 3000 mutated payloads', (_, cls, media) => {
    const sut = compileValidator(cls);
    const next = random(cls.name.length * 7919);
    let accepted = 0;
    for (let i = 0; i < 3000; i++) {
      const value: Record<string, unknown> = { ...payload(media, 'completed', 'cbase') };
      const mutations = 1 + Math.floor(next() * 3);
      for (let m = 0; m < mutations; m++) {
        const field = FIELDS[Math.floor(next() * FIELDS.length)];
        const replacement = POOL[Math.floor(next() * POOL.length)];
        if (replacement === undefined && next() < 0.5) delete value[field];
        else value[field] = replacement;
      }
      const expected = classValidatorAccepts(cls, value);
      if (sut(value) !== expected) throw new Error(`${cls.name} disagrees on ${JSON.stringify(value)}: class-validator ${expected}`);
      if (expected) accepted++;
    }
    // The corpus must exercise both answers, or the comparison proves little.
    expect(accepted).toBeGreaterThan(300);
    expect(accepted).toBeLessThan(2700);
  });

  it('accepts the realistic payloads and refuses what is not an object', () => {
    for (const media of ['video', 'image', 'audio'] as const) {
      for (const action of ['started', 'completed', 'errored'] as const) {
        expect(compileValidator(ProjectPayloadDto)(payload(media, action, 'cx'))).toBe(true);
      }
    }
    for (const value of [null, undefined, 'x', 7, [], [{ id: 'x' }]]) {
      expect(compileValidator(ProjectPayloadDto)(value)).toBe(false);
    }
  });

  it('checks the envelope: type format and an object payload', () => {
    const sut = compileValidator(WebhookEnvelopeDto);
    expect(sut({ type: 'video.completed', payload: {} })).toBe(true);
    expect(sut({ type: 'video.completed', payload: [] })).toBe(false);
    expect(sut({ type: 'video completed', payload: {} })).toBe(false);
    expect(sut({ type: 7, payload: {} })).toBe(false);
    expect(sut({ payload: {} })).toBe(false);
  });

  it('compiles each class once', () => {
    expect(compileValidator(VideoPayloadDto)).toBe(compileValidator(VideoPayloadDto));
  });
});
