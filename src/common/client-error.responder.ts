import { Logger } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { errorBody } from './http-error.filter.js';

/** Node's parser errors and how each is answered; anything else is a 400. */
const ANSWER_OF: Record<string, { status: number; message: string }> = {
  HPE_HEADER_OVERFLOW: { status: 431, message: 'Request headers are too large' },
  HPE_CHUNK_EXTENSIONS_OVERFLOW: { status: 413, message: 'Chunk extensions are too large' },
  ERR_HTTP_REQUEST_TIMEOUT: { status: 408, message: 'The request took too long to arrive' },
};
const MALFORMED = { status: 400, message: 'Malformed HTTP request' };

/** What `answerClientErrorsWithJson` answered on a connection, for the log line of the request it cut short. */
const ANSWERED = new WeakMap<object, { status: number; message: string }>();

/**
 * The status and message `answerClientErrorsWithJson` answered on `socket` (a request that timed out,
 * or one the parser could not read), or `undefined`: a request cut short this way is logged with what
 * the client was actually answered, not with what the route would have answered had it gone on.
 */
export function parserAnswerOn(socket: object): { status: number; message: string } | undefined {
  return ANSWERED.get(socket);
}

const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8', 'x-content-type-options': 'nosniff' };

/** Answers `response` with the service's JSON error and closes the connection. */
function refuse(response: ServerResponse, status: number, message: string): void {
  response.writeHead(status, { ...JSON_HEADERS, connection: 'close' }).end(JSON.stringify(errorBody(status, message)));
}

/**
 * Express middleware, first in the chain: an HTTP/1.1 request without a `Host` header is answered with
 * a JSON 400 (Node's own check, which answers with a bare status line, is turned off by
 * `answerClientErrorsWithJson`).
 */
export function requireHostHeader(request: Request, response: Response, next: NextFunction): void {
  if (request.httpVersion !== '1.1' || request.headers.host !== undefined) return next();
  refuse(response, 400, 'HTTP/1.1 requests must carry a Host header');
}

/**
 * Answers the requests Node would otherwise refuse itself with a bare status line and no body:
 * - those its HTTP parser cannot read (malformed request lines or headers, headers over the size
 *   limit, conflicting lengths): a JSON 400, 408, 413 or 431, then the connection is closed;
 * - an `Expect` header other than `100-continue`: a JSON 417.
 * It also leaves the `Host` check to `requireHostHeader`. The raw packet of a bad request is never
 * logged: it may hold an `Authorization` header or a signature.
 */
export function answerClientErrorsWithJson(server: Server): void {
  const logger = new Logger('HttpServer');
  // Node reads the option off the server at each request; it is only typed as a constructor option.
  (server as Server & { requireHostHeader: boolean }).requireHostHeader = false;
  server.on('checkExpectation', (request: IncomingMessage, response: ServerResponse) => {
    request.resume();
    refuse(response, 417, 'Only Expect: 100-continue is supported');
  });
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    const code = error.code ?? 'unknown';
    if (code === 'ECONNRESET' || !socket.writable || responseStarted(socket)) {
      socket.destroy();
      return;
    }
    const { status, message } = ANSWER_OF[code] ?? MALFORMED;
    ANSWERED.set(socket, { status, message });
    logger.debug(`Refused a request the HTTP parser could not read (${code}) with ${status}`);
    const answer = errorBody(status, message);
    const body = JSON.stringify(answer);
    socket.end(
      `HTTP/1.1 ${status} ${answer.error}\r\n` +
        'Content-Type: application/json; charset=utf-8\r\n' +
        'X-Content-Type-Options: nosniff\r\n' +
        `Content-Length: ${Buffer.byteLength(body)}\r\n` +
        'Connection: close\r\n\r\n' +
        body,
    );
    // A client that never reads must not hold the socket open.
    setTimeout(() => socket.destroy(), 1000).unref();
  });
}

/**
 * Whether a response on this connection has started to go out, so that writing an answer now would
 * corrupt it. Node offers no public way to ask; it keeps the in-flight response on the socket, and its
 * own default handler makes the same check.
 */
function responseStarted(socket: Duplex): boolean {
  const inFlight = (socket as Duplex & { _httpMessage?: ServerResponse | null })._httpMessage;
  return inFlight !== undefined && inFlight !== null && inFlight.headersSent;
}
