import { describe, expect, it } from '@jest/globals';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { assignRequestId, REQUEST_ID_HEADER } from './request-id.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** Runs `assignRequestId` for a request with these headers; returns the id and the header it set. */
function assign(headers: Record<string, string | string[]>): { id: string; echoed: unknown } {
  const set = new Map<string, unknown>();
  const response = { setHeader: (name: string, value: unknown) => set.set(name, value) } as unknown as ServerResponse;
  const id = assignRequestId({ headers } as IncomingMessage, response);
  return { id, echoed: set.get(REQUEST_ID_HEADER) };
}

describe(assignRequestId.name, () => {
  it.each([
    'abc-123',
    '0f8fad5b-d9cb-469f-a165-70867728950e',
    '01ARZ3NDEKTSV4RRFFQ69G5FAV',
    'Root=1-5759e988/bd86:2e3f@x_y.z+',
    'x'.repeat(128),
  ])('keeps an acceptable caller id %s and echoes it', (given) => {
    expect(assign({ [REQUEST_ID_HEADER]: given })).toEqual({ id: given, echoed: given });
  });

  it.each([
    ['absent', undefined],
    ['empty', ''],
    ['too long', 'x'.repeat(129)],
    ['with a space', 'a b'],
    ['with a quote', 'a"b'],
    ['with a newline', 'a\nb'],
    ['not ASCII', 'é'],
    ['sent twice', ['a', 'b']],
  ])('replaces an id that is %s with a fresh UUID, and echoes that', (_, given) => {
    const { id, echoed } = assign(given === undefined ? {} : { [REQUEST_ID_HEADER]: given });
    expect(id).toMatch(UUID);
    expect(echoed).toBe(id);
  });

  it('gives each request its own id', () => {
    expect(assign({}).id).not.toBe(assign({}).id);
  });
});
