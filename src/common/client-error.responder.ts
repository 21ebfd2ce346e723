import { Logger } from '@nestjs/common';
import type { Server, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { errorBody } from './http-error.filter.js';

/** Node's parser errors and how each is answered; anything else is a 400. */
const ANSWER_OF: Record<string, { status: number; message: string }> = {
  HPE_HEADER_OVERFLOW: { status: 431, message: 'Request headers are too large' },
  HPE_CHUNK_EXTENSIONS_OVERFLOW: { status: 413, message: 'Chunk extensions are too large' },
  ERR_HTTP_REQUEST_TIMEOUT: { status: 408, message: 'The request took too long to arrive' },
};
const MALFORMED = { status: 400, message: 'Malformed HTTP request' };

/**
 * Answers requests Node's HTTP parser refuses before any handler sees them (malformed request lines or
 * headers, headers over the size limit, conflicting lengths) with the service's JSON error instead of
 * Node's bare status line, then closes the connection. The raw packet of the bad request is never
 * logged: it may hold an `Authorization` header or a signature.
 */
export function answerClientErrorsWithJson(server: Server): void {
  const logger = new Logger('HttpServer');
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    const code = error.code ?? 'unknown';
    if (code === 'ECONNRESET' || !socket.writable || responseStarted(socket)) {
      socket.destroy();
      return;
    }
    const { status, message } = ANSWER_OF[code] ?? MALFORMED;
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
