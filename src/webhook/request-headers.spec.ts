import { describe, expect, it } from '@jest/globals';
import { distinctHeaders } from './request-headers.js';

describe(distinctHeaders.name, () => {
  it('finds the named headers whatever their case, with every value sent, in order', () => {
    const raw = ['Host', 'x', 'Magic-Hour-Event-Signature', 'a', 'content-type', 'application/json', 'MAGIC-HOUR-EVENT-SIGNATURE', 'b'];
    expect(distinctHeaders(raw, ['magic-hour-event-signature', 'content-type', 'magic-hour-event-timestamp'])).toEqual({
      'magic-hour-event-signature': ['a', 'b'],
      'content-type': ['application/json'],
    });
  });

  it('ignores headers it was not asked for, and names that only share a prefix', () => {
    expect(distinctHeaders(['content-type-x', 'a', 'Content-Length', '2'], ['content-type'])).toEqual({});
  });
});
