import { connect, type Socket } from 'node:net';
import { signedHeaders } from '../../support/signing.js';

/** What came back on a connection: the status line's code, the head, the body; or why nothing did. */
export interface RawAnswer {
  status?: number;
  head: string;
  body: string;
  error?: string;
}

/** The body of a chunked answer, its chunks joined. */
function unchunk(raw: string): string {
  let body = '';
  let rest = raw;
  for (;;) {
    const end = rest.indexOf('\r\n');
    const size = parseInt(rest.slice(0, end), 16);
    if (end < 0 || !(size > 0)) return body;
    body += rest.slice(end + 2, end + 2 + size);
    rest = rest.slice(end + 2 + size + 2);
  }
}

/**
 * A signed `POST /webhook` sent in two parts over a raw connection: the head and half the body now,
 * the rest on `finish()`. While it waits, the request is in flight at the server, for certain.
 */
export class PartialRequest {
  /** Everything the server sends until it closes the connection (or `timeoutMs` passes). */
  readonly answer: Promise<RawAnswer>;

  private constructor(
    private readonly socket: Socket,
    private readonly rest: Buffer,
    timeoutMs: number,
  ) {
    this.answer = new Promise((done) => {
      const chunks: Buffer[] = [];
      let error: string | undefined;
      const timer = setTimeout(() => {
        error = 'timeout';
        socket.destroy();
      }, timeoutMs);
      socket.on('data', (chunk: Buffer) => chunks.push(chunk));
      socket.on('error', (e: NodeJS.ErrnoException) => (error = e.code ?? e.message));
      socket.on('close', () => {
        clearTimeout(timer);
        const text = Buffer.concat(chunks).toString();
        const split = text.indexOf('\r\n\r\n');
        const head = split < 0 ? text : text.slice(0, split);
        const status = /^HTTP\/1\.1 (\d{3})/.exec(head)?.[1];
        const raw = split < 0 ? '' : text.slice(split + 4);
        const body = /^transfer-encoding: chunked$/im.test(head) ? unchunk(raw) : raw;
        done({ status: status ? Number(status) : undefined, head, body, error });
      });
    });
  }

  /** Connects to `port` and sends the head and the first half of `body`. */
  static open(port: number, body: string, secret: string, timeoutMs = 30_000): Promise<PartialRequest> {
    const bytes = Buffer.from(body);
    const half = Math.floor(bytes.length / 2);
    const headers = { ...signedHeaders(bytes, secret), 'content-length': String(bytes.length), host: '127.0.0.1' };
    const head = `POST /webhook HTTP/1.1\r\n${Object.entries(headers)
      .map(([name, value]) => `${name}: ${value}\r\n`)
      .join('')}\r\n`;
    return new Promise((done, fail) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.off('error', fail);
        socket.write(Buffer.concat([Buffer.from(head), bytes.subarray(0, half)]));
        done(new PartialRequest(socket, bytes.subarray(half), timeoutMs));
      });
      socket.once('error', fail);
    });
  }

  /** Sends the rest of the body. */
  finish(): void {
    this.socket.write(this.rest);
  }

  /** Drops the connection without finishing. */
  abandon(): void {
    this.socket.destroy();
  }
}
