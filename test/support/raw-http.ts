import { connect } from 'node:net';

/** An HTTP answer read off a raw socket. */
export interface RawAnswer {
  status: number;
  /** Header names in lower case; a repeated header keeps its last value. */
  headers: Record<string, string>;
  body: string;
}

/**
 * Sends `data` as it is (any bytes, however malformed) to `127.0.0.1:port` and reads one HTTP answer:
 * up to its `Content-Length`, or until the server closes. Resolves `null` when the server closed
 * without answering; rejects when nothing complete arrives within `timeoutMs`.
 */
export function rawRequest(port: number, data: string | Buffer, timeoutMs = 10_000): Promise<RawAnswer | null> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let settled = false;
    const finish = (answer: RawAnswer | null | Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (answer instanceof Error) reject(answer);
      else resolve(answer);
    };
    const timer = setTimeout(() => finish(new Error(`no complete answer within ${timeoutMs} ms`)), timeoutMs);
    const parse = (final: boolean): RawAnswer | null | undefined => {
      const received = Buffer.concat(chunks);
      const end = received.indexOf('\r\n\r\n');
      if (end < 0) return final ? null : undefined;
      const [statusLine, ...lines] = received.subarray(0, end).toString('latin1').split('\r\n');
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine);
      if (!status) return final ? null : undefined;
      if (status[1].startsWith('1')) {
        // An interim answer (100 Continue): the real one follows.
        chunks.splice(0, chunks.length, received.subarray(end + 4));
        return parse(final);
      }
      const headers: Record<string, string> = {};
      for (const line of lines) {
        const colon = line.indexOf(':');
        if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      const body = received.subarray(end + 4);
      const length = headers['content-length'] === undefined ? undefined : Number(headers['content-length']);
      if (length !== undefined && body.length >= length) {
        return { status: Number(status[1]), headers, body: body.subarray(0, length).toString('utf8') };
      }
      if (headers['transfer-encoding'] === 'chunked') {
        const decoded = dechunk(body);
        if (decoded !== null) return { status: Number(status[1]), headers, body: decoded.toString('utf8') };
      }
      return final ? { status: Number(status[1]), headers, body: body.toString('utf8') } : undefined;
    };
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      const answer = parse(false);
      if (answer !== undefined) finish(answer);
    });
    socket.on('close', () => finish(parse(true) ?? null));
    // The server may close on us mid-send (it refused the request early): read what it answered.
    socket.on('error', () => undefined);
    socket.write(data);
  });
}

/** A chunked body decoded, or `null` while its last chunk has not arrived. */
function dechunk(data: Buffer): Buffer | null {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const lineEnd = data.indexOf('\r\n', at);
    if (lineEnd < 0) return null;
    const size = parseInt(data.subarray(at, lineEnd).toString('latin1'), 16);
    if (Number.isNaN(size)) return null;
    if (size === 0) return Buffer.concat(parts);
    if (data.length < lineEnd + 2 + size + 2) return null;
    parts.push(data.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = lineEnd + 2 + size + 2;
  }
}

/** The port a started Nest app listens on. */
export function portOf(server: { address(): unknown }): number {
  const address = server.address();
  if (address === null || typeof address !== 'object' || !('port' in address)) throw new Error('the app is not listening');
  return (address as { port: number }).port;
}
