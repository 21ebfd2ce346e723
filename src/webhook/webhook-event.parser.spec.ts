import { describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { ALL_TYPES, eventBody, projectId } from '../../test/support/events.js';
import { storableJson, WebhookEventParser, type InvalidEvent, type ParsedEvent } from './webhook-event.parser.js';

const sha256 = (body: Buffer): string => createHash('sha256').update(body).digest('hex');

const GUIDE_EXAMPLE =
  '{"type":"image.completed","payload":{"id":"clx7uu86w0a5qp55yxz315r6r","status":"complete","downloads":[{"url":"https://images.magichour.ai/id/output.png","expires_at":"2024-10-19T05:16:19.027Z"}]}}';

describe(WebhookEventParser.name, () => {
  const sut = new WebhookEventParser();
  const parse = (body: string | Buffer): Promise<ParsedEvent> => sut.parse(Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8'));

  async function parseInvalid(body: string | Buffer): Promise<InvalidEvent> {
    const result = await parse(body);
    expect(result.kind).toBe('invalid');
    return result as InvalidEvent;
  }

  /** A video.started body whose payload is `payload` (with id `cbad` unless given). */
  const withPayload = (payload: Record<string, unknown>, type = 'video.started') =>
    JSON.stringify({ type, payload: { id: 'cbad', ...payload } });

  describe('valid events', () => {
    it.each(ALL_TYPES)('parses a realistic %s', async (type) => {
      const id = projectId();
      const body = eventBody(type, id);
      const result = await parse(body);
      expect(result).toMatchObject({
        kind: 'valid',
        eventKey: `${type}:${id}`,
        type,
        media: type.split('.')[0],
        projectId: id,
      });
      const { payload } = JSON.parse(body);
      if (result.kind !== 'valid') throw new Error('unreachable');
      expect(result.payload).toEqual(payload);
      expect(JSON.parse(result.payloadJson)).toEqual(payload);
    });

    it('accepts the minimal example from the Magic Hour guide', async () => {
      const result = await parse(GUIDE_EXAMPLE);
      expect(result).toMatchObject({
        kind: 'valid',
        eventKey: 'image.completed:clx7uu86w0a5qp55yxz315r6r',
        media: 'image',
        projectId: 'clx7uu86w0a5qp55yxz315r6r',
      });
    });

    it('accepts fields it does not know, in the payload and in the envelope, and keeps them', async () => {
      const id = projectId();
      const envelope = JSON.parse(eventBody('video.completed', id, { new_field: { nested: [1, 2] }, quality: 'hd' }));
      const result = await parse(JSON.stringify({ ...envelope, delivered_at: '2026-11-27T10:00:00Z' }));
      expect(result.kind).toBe('valid');
      if (result.kind !== 'valid') return;
      expect(result.payload).toMatchObject({ new_field: { nested: [1, 2] }, quality: 'hd' });
      expect(JSON.parse(result.payloadJson)).toMatchObject({ new_field: { nested: [1, 2] }, quality: 'hd' });
    });

    it('accepts null for every optional field', async () => {
      const nulls = {
        name: null,
        status: null,
        type: null,
        created_at: null,
        enabled: null,
        credits_charged: null,
        downloads: null,
        error: null,
        width: null,
        height: null,
        fps: null,
        start_seconds: null,
        end_seconds: null,
      };
      expect((await parse(eventBody('video.started', projectId(), nulls))).kind).toBe('valid');
      expect((await parse(eventBody('image.completed', projectId(), { image_count: null }))).kind).toBe('valid');
      const nestedNulls = { downloads: [{ url: 'https://x.test/a', expires_at: null }], error: { code: null, message: null } };
      expect((await parse(eventBody('audio.errored', projectId(), nestedNulls))).kind).toBe('valid');
    });

    it('accepts a payload with only an id', async () => {
      expect(await parse('{"type":"audio.started","payload":{"id":"conly"}}')).toMatchObject({
        kind: 'valid',
        eventKey: 'audio.started:conly',
      });
    });

    it('accepts a body with a UTF-8 byte order mark', async () => {
      const body = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(GUIDE_EXAMPLE)]);
      expect((await parse(body)).kind).toBe('valid');
    });
  });

  describe('unknown event types', () => {
    it('keeps a well-formed type of a known media as unknown, with its key', async () => {
      const result = await parse('{"type":"video.canceled","payload":{"id":"cvid"}}');
      expect(result).toMatchObject({
        kind: 'unknown',
        eventKey: 'video.canceled:cvid',
        type: 'video.canceled',
        media: 'video',
        projectId: 'cvid',
      });
    });

    it('keeps a well-formed type of an unknown media as unknown, with media "unknown"', async () => {
      const result = await parse('{"type":"document.completed","payload":{"id":"cdoc","pages":3}}');
      expect(result).toMatchObject({
        kind: 'unknown',
        eventKey: 'document.completed:cdoc',
        type: 'document.completed',
        media: 'unknown',
        projectId: 'cdoc',
        payload: { id: 'cdoc', pages: 3 },
      });
    });

    it('still validates the payload of an unknown type', async () => {
      const result = await parseInvalid('{"type":"document.completed","payload":{"id":17}}');
      expect(result.errors.join('\n')).toMatch(/payload\.id must be a string/);
    });
  });

  describe('invalid bodies', () => {
    it('quarantines a body that is not JSON under the sha256 of its bytes, keeping its text', async () => {
      const body = Buffer.from('type=video.started&id=abc');
      const result = await parseInvalid(body);
      expect(result.errors).toEqual(['body is not valid JSON']);
      expect(result.eventKey).toBe(`quarantine:${sha256(body)}`);
      expect(result).toMatchObject({ type: 'unknown', media: 'unknown', projectId: null });
      expect(JSON.parse(result.payloadJson)).toBe('type=video.started&id=abc');
    });

    it('quarantines an empty body', async () => {
      const result = await parseInvalid(Buffer.alloc(0));
      expect(result.errors).toEqual(['body is not valid JSON']);
      expect(result.eventKey).toBe(`quarantine:${sha256(Buffer.alloc(0))}`);
    });

    it('refuses a JSON array', async () => {
      const body = Buffer.from('[{"type":"video.started","payload":{"id":"x"}}]');
      const result = await parseInvalid(body);
      expect(result.errors).toEqual(['body must be a JSON object']);
      expect(result.eventKey).toBe(`quarantine:${sha256(body)}`);
      expect(JSON.parse(result.payloadJson)).toEqual([{ type: 'video.started', payload: { id: 'x' } }]);
    });

    it.each(['null', '"video.started"', '42'])('refuses the JSON scalar %s', async (body) => {
      expect((await parseInvalid(body)).errors).toEqual(['body must be a JSON object']);
    });

    it('refuses a missing type, under a quarantine key', async () => {
      const body = Buffer.from('{"payload":{"id":"cnotype"}}');
      const result = await parseInvalid(body);
      expect(result.errors).toContain('type must be a string');
      expect(result.eventKey).toBe(`quarantine:${sha256(body)}`);
      expect(result.type).toBe('unknown');
      expect(JSON.parse(result.payloadJson)).toEqual({ payload: { id: 'cnotype' } });
    });

    it.each(['video', 'Video.Started', 'video.started.extra', '.started', 'video.', '1video.started'])(
      'refuses the type %j, which is not <media>.<action>',
      async (type) => {
        const result = await parseInvalid(JSON.stringify({ type, payload: { id: 'ctype' } }));
        expect(result.errors).toContain('type must look like "<media>.<action>"');
        expect(result.eventKey).toBe(`${type}:ctype`);
      },
    );

    it('refuses a type with a space, under a quarantine key (key parts are printable ASCII only)', async () => {
      const body = Buffer.from(JSON.stringify({ type: 'video started', payload: { id: 'ctype' } }));
      const result = await parseInvalid(body);
      expect(result.errors).toContain('type must look like "<media>.<action>"');
      expect(result.eventKey).toBe(`quarantine:${sha256(body)}`);
      expect(result.type).toBe('unknown');
    });

    it('refuses a type that is not a string, under a quarantine key', async () => {
      const body = Buffer.from('{"type":7,"payload":{"id":"cnum"}}');
      const result = await parseInvalid(body);
      expect(result.errors).toContain('type must be a string');
      expect(result.eventKey).toBe(`quarantine:${sha256(body)}`);
    });

    it('refuses a missing payload', async () => {
      const body = Buffer.from('{"type":"video.started"}');
      const result = await parseInvalid(body);
      expect(result.errors).toEqual(['payload must be an object']);
      expect(result.eventKey).toBe(`quarantine:${sha256(body)}`);
      expect(result).toMatchObject({ type: 'video.started', media: 'video', projectId: null });
    });

    it('refuses a payload that is an array', async () => {
      const body = Buffer.from('{"type":"video.started","payload":[{"id":"x"}]}');
      const result = await parseInvalid(body);
      expect(result.errors).toEqual(['payload must be an object']);
      expect(result.eventKey).toBe(`quarantine:${sha256(body)}`);
    });

    it('refuses a payload without an id', async () => {
      const body = Buffer.from('{"type":"video.started","payload":{"name":"no id"}}');
      const result = await parseInvalid(body);
      expect(result.errors).toContain('payload.id must be a string');
      expect(result.eventKey).toBe(`quarantine:${sha256(body)}`);
    });

    it('refuses a payload id that is a number', async () => {
      const body = Buffer.from('{"type":"video.started","payload":{"id":12345}}');
      const result = await parseInvalid(body);
      expect(result.errors).toContain('payload.id must be a string');
      expect(result.eventKey).toBe(`quarantine:${sha256(body)}`);
      expect(result.projectId).toBeNull();
    });

    it('refuses a payload id with spaces', async () => {
      const result = await parseInvalid(withPayload({ id: 'has space' }));
      expect(result.errors).toEqual(['payload.id must be printable ASCII without spaces']);
    });

    it.each(['ftp://files.test/a.mp4', 'javascript:alert(1)', '/relative/path.mp4', 'https://has space.test/a'])(
      'refuses the download url %j',
      async (url) => {
        const result = await parseInvalid(withPayload({ downloads: [{ url, expires_at: null }] }, 'video.completed'));
        expect(result.errors).toEqual(['payload.downloads.0.url must be an http(s) URL']);
        expect(result.eventKey).toBe('video.completed:cbad');
      },
    );

    it('refuses a download without a url', async () => {
      const result = await parseInvalid(withPayload({ downloads: [{ expires_at: '2026-11-28T10:00:00.000Z' }] }));
      expect(result.errors).toContain('payload.downloads.0.url must be a string');
    });

    it.each(['yesterday', '2026-13-01T00:00:00Z', '27/11/2026', '1764230000'])(
      'refuses the created_at %j, which is not ISO 8601',
      async (createdAt) => {
        const result = await parseInvalid(withPayload({ created_at: createdAt }));
        expect(result.errors.length).toBeGreaterThan(0);
        expect(result.errors.every((error) => error.startsWith('payload.created_at must be'))).toBe(true);
        expect(result.eventKey).toBe('video.started:cbad');
      },
    );

    it('refuses an expires_at that is not ISO 8601', async () => {
      const result = await parseInvalid(withPayload({ downloads: [{ url: 'https://x.test/a', expires_at: 'soon' }] }));
      expect(result.errors).toContain('payload.downloads.0.expires_at must be an RFC 3339 timestamp with an offset');
    });

    // The payload's created_at becomes the job's created_at (a timestamptz) through `new Date(...)`;
    // validation.ts says of OptionalTimestamp "stored as a timestamp, so it must parse".
    it.each(['2026-W48-5', '2026-331', '20261127T100000Z', '2026-11-27T10:00:00,000Z'])(
      'refuses the created_at %j, valid ISO 8601 that Date cannot read',
      async (createdAt) => {
        expect(Number.isNaN(new Date(createdAt).getTime())).toBe(true);
        const result = await parse(withPayload({ created_at: createdAt }));
        expect(result.kind).toBe('invalid');
      },
    );

    it('accepts a negative credits_charged (the schema sets no minimum)', async () => {
      expect((await parse(withPayload({ credits_charged: -1 }))).kind).toBe('valid');
    });

    it('refuses a fractional credits_charged', async () => {
      const result = await parseInvalid(withPayload({ credits_charged: 1.5 }));
      expect(result.errors).toEqual(['payload.credits_charged must be an integer number']);
    });

    it('accepts credits_charged past the largest Postgres integer (the schema sets no maximum)', async () => {
      for (const credits of [2_147_483_647, 2_147_483_648, 4e15, 1e19]) {
        expect((await parse(withPayload({ credits_charged: credits }))).kind).toBe('valid');
      }
    });

    it('refuses a video width given as a string', async () => {
      const result = await parseInvalid(withPayload({ width: '1280' }));
      expect(result.errors).toEqual(['payload.width must be a number conforming to the specified constraints']);
      expect(result).toMatchObject({ eventKey: 'video.started:cbad', media: 'video', projectId: 'cbad' });
    });

    it('refuses a fractional image_count, and takes any whole one (the schema sets no bounds)', async () => {
      expect((await parseInvalid(withPayload({ image_count: 1.5 }, 'image.completed'))).errors).toEqual([
        'payload.image_count must be an integer number',
      ]);
      for (const count of [-1, 0, 2 ** 31]) {
        expect((await parse(withPayload({ image_count: count }, 'image.completed'))).kind).toBe('valid');
      }
    });

    it('checks video fields only on video events', async () => {
      expect((await parse(withPayload({ width: '1280' }, 'audio.started'))).kind).toBe('valid');
    });

    it('refuses an error that is not an object, and an error code that is not a string', async () => {
      expect((await parseInvalid(withPayload({ error: 'boom' }))).errors).toContain('payload.error must be an object');
      expect((await parseInvalid(withPayload({ error: { code: 42, message: 'boom' } }))).errors).toContain(
        'payload.error.code must be a string',
      );
    });

    it('lists every problem at once', async () => {
      const result = await parseInvalid(withPayload({ credits_charged: 1.5, width: 'wide', enabled: 'yes' }));
      expect(result.errors).toHaveLength(3);
      expect(result.errors.join('\n')).toMatch(/payload\.credits_charged/);
      expect(result.errors.join('\n')).toMatch(/payload\.width/);
      expect(result.errors.join('\n')).toMatch(/payload\.enabled must be a boolean value/);
    });

    it('keys an invalid body that has a string type and payload.id as {type}:{id}, and keeps its JSON', async () => {
      const body = withPayload({ id: 'ckeyed', credits_charged: 5.5 }, 'audio.completed');
      const result = await parseInvalid(body);
      expect(result).toMatchObject({
        eventKey: 'audio.completed:ckeyed',
        type: 'audio.completed',
        media: 'audio',
        projectId: 'ckeyed',
      });
      expect(JSON.parse(result.payloadJson)).toEqual(JSON.parse(body));
    });

    it('keeps an invalid body with an over-long type under a quarantine key', async () => {
      const body = Buffer.from(JSON.stringify({ type: `video.${'a'.repeat(200)}`, payload: { id: 'clong' } }));
      const result = await parseInvalid(body);
      expect(result.eventKey).toBe(`quarantine:${sha256(body)}`);
      expect(result.type).toBe('unknown');
    });

    it('keeps a body that is not valid UTF-8 as a base64 JSON string', async () => {
      const body = Buffer.from([0x7b, 0xff, 0x7d]);
      const result = await parseInvalid(body);
      expect(result.errors).toEqual(['body is not valid UTF-8']);
      expect(result.eventKey).toBe(`quarantine:${sha256(body)}`);
      const stored: unknown = JSON.parse(result.payloadJson);
      expect(typeof stored).toBe('string');
      expect(stored).toBe(`base64:${body.toString('base64')}`);
      expect(Buffer.from((stored as string).slice('base64:'.length), 'base64')).toEqual(body);
    });

    it('refuses a valid-looking event whose payload holds a NUL, keeping the body as base64', async () => {
      const body = Buffer.from('{"type":"video.started","payload":{"id":"cnul","name":"a\\u0000b"}}');
      const result = await parseInvalid(body);
      expect(result.errors).toEqual(['payload holds NUL characters or unpaired surrogates, which cannot be stored as JSON']);
      expect(result.eventKey).toBe('video.started:cnul');
      expect(result.payloadJson).not.toContain('\\u0000');
      const stored: unknown = JSON.parse(result.payloadJson);
      expect(stored).toBe(`base64:${body.toString('base64')}`);
    });

    it('refuses a valid-looking event whose payload holds an unpaired surrogate', async () => {
      const body = Buffer.from('{"type":"video.started","payload":{"id":"csur","name":"\\ud800"}}');
      const result = await parseInvalid(body);
      expect(JSON.parse(result.payloadJson)).toBe(`base64:${body.toString('base64')}`);
    });

    it('accepts a paired surrogate (an emoji written as \\u escapes)', async () => {
      const result = await parse('{"type":"video.started","payload":{"id":"cemoji","name":"\\ud83c\\udfac"}}');
      expect(result.kind).toBe('valid');
      if (result.kind === 'valid') expect(result.payload.name).toBe('🎬');
    });

    // The key, type and project id go into Postgres text columns, which cannot hold NUL either.
    it('gives an invalid body whose payload.id holds a NUL a key Postgres can store', async () => {
      const result = await parseInvalid('{"type":"video.started","payload":{"id":"a\\u0000b"}}');
      expect(result.eventKey).not.toContain('\u0000');
      expect(result.projectId ?? '').not.toContain('\u0000');
    });

    it('gives an invalid body whose type holds a NUL a key and type Postgres can store', async () => {
      const result = await parseInvalid('{"type":"video\\u0000.started","payload":{"id":"cnultype"}}');
      expect(result.eventKey).not.toContain('\u0000');
      expect(result.type).not.toContain('\u0000');
    });
  });

  it('does not let a __proto__ key in the payload pollute Object.prototype', async () => {
    const result = await parse('{"type":"video.started","payload":{"id":"x","__proto__":{"polluted":true}}}');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('polluted');
    expect(result).toMatchObject({ kind: 'valid', eventKey: 'video.started:x' });
  });

  it('does not let a __proto__ key in the envelope pollute Object.prototype', async () => {
    await parse(
      '{"__proto__":{"polluted":true},"type":"video.started","payload":{"id":"y","constructor":{"prototype":{"polluted":true}}}}',
    );
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('never throws, whatever the bytes', async () => {
    const bodies = [
      Buffer.from([0x00]),
      Buffer.from('{"type":"video.started","payload":{"id":"x","downloads":[null]}}'),
      Buffer.from('{'.repeat(10_000)),
    ];
    for (const body of bodies) {
      await expect(sut.parse(body)).resolves.toMatchObject({ kind: 'invalid' });
    }
  });

  describe('hostile bodies', () => {
    it('keeps a __proto__ or constructor key as plain data, without touching any prototype', async () => {
      const body =
        '{"type":"video.started","__proto__":{"polluted":1},"payload":{"id":"cproto","__proto__":{"polluted":2},' +
        '"constructor":{"prototype":{"polluted":3}},"downloads":[{"url":"https://x.example/a","__proto__":{"polluted":4}}]}}';
      const result = await parse(body);
      expect(result.kind).toBe('valid');
      if (result.kind !== 'valid') throw new Error('unreachable');
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      expect(Object.getPrototypeOf(result.payload)).toBe(Object.prototype);
      // Kept as own data, so stored as sent.
      const stored = JSON.parse(result.payloadJson) as Record<string, unknown>;
      expect(Object.getOwnPropertyDescriptor(stored, '__proto__')?.value).toEqual({ polluted: 2 });
      expect(stored.constructor).toEqual({ prototype: { polluted: 3 } });
      expect(result.payloadJson).toContain('"__proto__":{"polluted":2}');
    });

    it('keeps a body of just null as its text (a JSON null cannot be stored as the payload)', async () => {
      const result = await parseInvalid('null');
      expect(result.payloadJson).toBe('"null"');
      expect(result.errors).toEqual(['body must be a JSON object']);
    });

    it('quarantines an out-of-range number in a field it checks', async () => {
      const result = await parseInvalid('{"type":"video.completed","payload":{"id":"cbig","credits_charged":1e400}}');
      expect(result.errors.join()).toMatch(/credits_charged/);
      expect(result.eventKey).toBe('video.completed:cbig');
    });

    it.each(['{"type":"video.completed","payload":{"id":"cbig","credits_charged":1e400}}', '{"type":"x","n":123456789012345678901}'])(
      'keeps an invalid body whose numbers a double cannot hold as its exact text: %s',
      async (body) => {
        const result = await parseInvalid(body);
        expect(JSON.parse(result.payloadJson)).toBe(body);
      },
    );
  });
});

describe('storableJson', () => {
  it.each([
    ['a string', 'hello'],
    ['a number', 42],
    ['a boolean', true],
    ['null', null],
    ['an array', [1, 'two', null]],
    ['a nested object', { a: { b: [{ c: 'd' }] }, e: 'naïve ☕ 🎬' }],
  ])('round-trips %s', (_label, value) => {
    const json = storableJson(value);
    expect(json).not.toBeNull();
    expect(JSON.parse(json!)).toEqual(value);
  });

  it('refuses a NUL character', () => {
    expect(storableJson('a\u0000b')).toBeNull();
    expect(storableJson({ nested: ['\u0000'] })).toBeNull();
    expect(storableJson({ 'key\u0000': 1 })).toBeNull();
  });

  it('refuses lone surrogates, high or low', () => {
    expect(storableJson('\ud800')).toBeNull();
    expect(storableJson('x\udfffy')).toBeNull();
    expect(storableJson({ name: 'ok', other: 'a\udbff' })).toBeNull();
  });

  it('keeps a literal backslash followed by "u0000"', () => {
    const value = 'C:\\u0000\\path';
    expect(value).toHaveLength(13);
    const json = storableJson(value);
    expect(json).toBe('"C:\\\\u0000\\\\path"');
    expect(JSON.parse(json!)).toBe(value);
    expect(storableJson({ a: '\\u0000', b: '\\\\ud800' })).not.toBeNull();
  });

  it('refuses a NUL that follows a literal backslash', () => {
    expect(storableJson('\\\u0000')).toBeNull();
    expect(storableJson('\\\\\u0000')).toBeNull();
  });

  it('refuses a string that is just a NUL', () => {
    expect(storableJson('\u0000')).toBeNull();
  });
});

describe(`${WebhookEventParser.name}: numbers, nesting and long lists`, () => {
  const sut = new WebhookEventParser();
  const parse = (body: string): Promise<ParsedEvent> => sut.parse(Buffer.from(body, 'utf8'));

  it.each(['1e400', '-1e400', ' 1E999 ', '1e-400', '12345678901234567890', '42', 'true', 'false', '"text"', 'null'])(
    'quarantines a top-level %j, keeping its exact text',
    async (body) => {
      const result = await parse(body);
      expect(result).toMatchObject({ kind: 'invalid', errors: ['body must be a JSON object'] });
      expect(JSON.parse(result.payloadJson)).toBe(body);
    },
  );

  it.each(['1e400', '-1e400', '1E999', '1e-400', '4.9e-324', `1${'0'.repeat(120)}`])(
    'quarantines an event holding %s in a field it does not check, as its exact text',
    async (number) => {
      const body = `{"type":"video.started","payload":{"id":"cnum","extra":[${number}]}}`;
      const result = await parse(body);
      expect(result.kind).toBe('invalid');
      expect(JSON.parse(result.payloadJson)).toBe(body);
      expect(result.eventKey).toBe('video.started:cnum');
    },
  );

  it('stores numbers a double would round exactly as sent, where no field checks them', async () => {
    const body =
      '{"type":"video.started","ticket":98765432109876543210,"payload":{"id":"cnum","ticket":12345678901234567890123,' +
      '"ratio":0.12345678901234567891,"list":[-1234567890.1234567890123e-5, 1.5],"note":"12345678901234567890"}}';
    const result = await parse(body);
    expect(result.kind).toBe('valid');
    expect(result.payloadJson).toBe(
      '{"id":"cnum","ticket":12345678901234567890123,"ratio":0.12345678901234567891,"list":[-1234567890.1234567890123e-5,1.5],"note":"12345678901234567890"}',
    );
    // The parsed payload is JSON.parse's reading, as before.
    expect((result as { payload: Record<string, unknown> }).payload.ticket).toBe(Number('12345678901234567890123'));
  });

  it('quarantines a rounded number in a field it checks, keeping the exact text', async () => {
    const body = '{"type":"video.completed","payload":{"id":"cnum","credits_charged":12345678901234567890}}';
    const result = await parse(body);
    expect(result.kind).toBe('invalid');
    expect((result as InvalidEvent).errors.join()).toMatch(/credits_charged/);
    expect(JSON.parse(result.payloadJson)).toBe(body);
  });

  it('quarantines a body nested deeper than 64 levels as its text, and accepts 64', async () => {
    const nest = (levels: number) => `{"type":"video.started","payload":{"id":"cdeep","x":${'['.repeat(levels)}${']'.repeat(levels)}}}`;
    expect((await parse(nest(62))).kind).toBe('valid');
    const deep = nest(63);
    const result = await parse(deep);
    expect(result).toMatchObject({ kind: 'invalid', eventKey: 'video.started:cdeep', errors: ['body is nested deeper than 64 levels'] });
    expect(JSON.parse(result.payloadJson)).toBe(deep);
    expect((await parse(nest(4110))).kind).toBe('invalid');
  });

  it('describes a 60,000-item list in a few capped messages, quickly', async () => {
    const body = `{"type":"video.completed","payload":{"id":"clong","downloads":[${Array(60_000).fill('1').join(',')}]}}`;
    const started = performance.now();
    const result = (await parse(body)) as InvalidEvent;
    const took = performance.now() - started;
    expect(result.kind).toBe('invalid');
    expect(result.errors.length).toBeLessThanOrEqual(21);
    expect(result.errors.join('; ').length).toBeLessThan(21 * 300);
    expect(result.errors.join('; ')).toMatch(/downloads\.0/);
    expect(result.errors.join('; ')).toMatch(/60000 items/);
    expect(took).toBeLessThan(100);
  });

  it('caps the messages at 20, each at 300 characters, and says how many more there were', async () => {
    const fields = Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`f${i}`, 1]));
    const body = JSON.stringify({ type: 'x'.repeat(5000), ...fields });
    const result = (await parse(body)) as InvalidEvent;
    expect(result.kind).toBe('invalid');
    expect(result.errors.length).toBeLessThanOrEqual(21);
    for (const message of result.errors) expect(message.length).toBeLessThanOrEqual(300);
  });
});
