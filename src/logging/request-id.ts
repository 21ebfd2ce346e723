import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';

/** The header a request id is read from and echoed in. */
export const REQUEST_ID_HEADER = 'x-request-id';

// What an incoming id may be: the usual UUIDs, ULIDs and trace ids; nothing that could break a header
// or a log line, and short enough that a caller cannot bloat every line of its request.
const ACCEPTABLE_ID = /^[\w.:=+/@-]{1,128}$/;

/**
 * The id of a request: the caller's `x-request-id` when it is acceptable (1 to 128 characters of
 * letters, digits and `_ . : = + / @ -`), a fresh UUID otherwise. It is set on the response's
 * `x-request-id` header, so a caller can quote it.
 */
export function assignRequestId(request: IncomingMessage, response: ServerResponse): string {
  const given = request.headers[REQUEST_ID_HEADER];
  const id = typeof given === 'string' && ACCEPTABLE_ID.test(given) ? given : randomUUID();
  response.setHeader(REQUEST_ID_HEADER, id);
  return id;
}
