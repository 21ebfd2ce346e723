import { describe, expect, it } from '@jest/globals';
import { type ExecutionContext, HttpStatus, UnauthorizedException } from '@nestjs/common';
import { buildConfig } from '../config/app.config.js';
import { validateEnv } from '../config/env.validation.js';
import { ApiKeyGuard, ApiKeys } from './api-key.guard.js';

const KEY_A = 'mh_live_4f1c2e9a7b3d';
const KEY_B = 'mh_live_8d0e5a6c1f2b';

const guardWith = (env: Record<string, string>) => new ApiKeyGuard(buildConfig(validateEnv(env)));

const contextFor = (authorization?: string) =>
  ({
    switchToHttp: () => ({
      getRequest: () => ({ headers: authorization === undefined ? {} : { authorization } }),
    }),
  }) as unknown as ExecutionContext;

/** The exception the guard throws for `authorization`. */
function refusal(sut: ApiKeyGuard, authorization?: string): UnauthorizedException {
  try {
    sut.canActivate(contextFor(authorization));
  } catch (error) {
    expect(error).toBeInstanceOf(UnauthorizedException);
    return error as UnauthorizedException;
  }
  throw new Error(`the guard let ${JSON.stringify(authorization)} through`);
}

describe(ApiKeyGuard.name, () => {
  describe('with no key configured', () => {
    const sut = guardWith({});

    it('lets every request through, with or without a header', () => {
      expect(sut.canActivate(contextFor())).toBe(true);
      expect(sut.canActivate(contextFor('Bearer anything'))).toBe(true);
      expect(sut.canActivate(contextFor('garbage'))).toBe(true);
    });

    it('counts a key list of only commas as no key', () => {
      expect(guardWith({ API_KEYS: ' , ' }).canActivate(contextFor())).toBe(true);
    });
  });

  describe('with two keys configured', () => {
    const sut = guardWith({ API_KEYS: `${KEY_A}, ${KEY_B}` });

    it('refuses a request without an Authorization header with a 401', () => {
      const error = refusal(sut);
      expect(error.getStatus()).toBe(HttpStatus.UNAUTHORIZED);
      expect(error.message).toBe('Missing API key: send Authorization: Bearer <key>');
    });

    it.each(['', 'Bearer', 'Bearer ', KEY_A, `Basic ${KEY_A}`, `Token ${KEY_A}`, `Bearer ${KEY_A} extra`, `Bearer${KEY_A}`])(
      'refuses the malformed header %j as missing',
      (header) => {
        expect(refusal(sut, header).message).toBe('Missing API key: send Authorization: Bearer <key>');
      },
    );

    it('refuses a wrong key with a 401', () => {
      const error = refusal(sut, 'Bearer mh_live_000000000000');
      expect(error.getStatus()).toBe(401);
      expect(error.message).toBe('Invalid API key');
    });

    it('accepts either configured key', () => {
      expect(sut.canActivate(contextFor(`Bearer ${KEY_A}`))).toBe(true);
      expect(sut.canActivate(contextFor(`Bearer ${KEY_B}`))).toBe(true);
    });

    it('reads the Bearer scheme case-insensitively', () => {
      for (const scheme of ['bearer', 'BEARER', 'BeArEr']) {
        expect(sut.canActivate(contextFor(`${scheme} ${KEY_A}`))).toBe(true);
      }
    });

    it('tolerates extra spaces around the key', () => {
      expect(sut.canActivate(contextFor(`Bearer    ${KEY_B}  `))).toBe(true);
    });

    it('compares the key itself case-sensitively', () => {
      expect(refusal(sut, `Bearer ${KEY_A.toUpperCase()}`).message).toBe('Invalid API key');
    });

    it('refuses a prefix of a real key, and a real key with more after it', () => {
      expect(refusal(sut, `Bearer ${KEY_A.slice(0, -1)}`).message).toBe('Invalid API key');
      expect(refusal(sut, `Bearer ${KEY_A.slice(0, 8)}`).message).toBe('Invalid API key');
      expect(refusal(sut, `Bearer ${KEY_A}x`).message).toBe('Invalid API key');
    });

    it('refuses the two keys joined, as the raw API_KEYS value', () => {
      expect(refusal(sut, `Bearer ${KEY_A},${KEY_B}`).message).toBe('Invalid API key');
    });
  });
});

describe(ApiKeys.name, () => {
  const sut = new ApiKeys([KEY_A, KEY_B]);

  it('names the key a header carries by its position, never by its value', () => {
    expect(sut.match(`Bearer ${KEY_A}`)).toBe(0);
    expect(sut.match(`bearer ${KEY_B} `)).toBe(1);
  });

  it('tells a wrong key (null) from a missing or malformed header (undefined)', () => {
    expect(sut.match('Bearer nope')).toBeNull();
    expect(sut.match(`Bearer ${KEY_A}x`)).toBeNull();
    expect(sut.match(undefined)).toBeUndefined();
    expect(sut.match(KEY_A)).toBeUndefined();
    expect(sut.match(`Basic ${KEY_A}`)).toBeUndefined();
  });

  it('finds the first of two equal keys', () => {
    expect(new ApiKeys(['same', 'same']).match('Bearer same')).toBe(0);
  });
});
