import { InvalidRequestError } from './domain.errors.js';

/** Printable ASCII without spaces: what ids and names in paths and queries may hold (never a NUL). */
export const PRINTABLE_ASCII = /^[\x21-\x7e]+$/;

/** A position in a list ordered newest first by a timestamp, then by id. */
export interface KeysetPosition {
  at: Date;
  id: string;
}

/** Encodes a keyset position as the opaque `nextCursor` the list endpoints return. */
export function encodeKeysetCursor(position: KeysetPosition): string {
  return Buffer.from(JSON.stringify([position.at.toISOString(), position.id])).toString('base64url');
}

/**
 * Decodes a cursor made by `encodeKeysetCursor`. `idPattern` checks the id before it reaches SQL (a
 * uuid column would refuse a malformed one with an error). Throws `InvalidRequestError` otherwise.
 */
export function decodeKeysetCursor(cursor: string, idPattern: RegExp = PRINTABLE_ASCII): KeysetPosition {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(value) && value.length === 2 && typeof value[0] === 'string' && typeof value[1] === 'string') {
      const at = new Date(value[0]);
      // Any date a stored row can hold (Postgres's timestamptz reaches past JavaScript's last date), so
      // that every cursor the API hands out is taken back; not before year 1, which Postgres spells BC.
      if (!Number.isNaN(at.getTime()) && at.getUTCFullYear() >= 1 && idPattern.test(value[1])) return { at, id: value[1] };
    }
  } catch {
    // falls through to the error below
  }
  throw new InvalidRequestError('cursor is not one this API returned');
}
