import { afterEach, describe, expect, it } from '@jest/globals';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { GracefulShutdown } from './graceful-shutdown.js';

/** A server that answers `POST /` once the whole body arrived, echoing its length. */
function startServer(): Promise<Server> {
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let size = 0;
    req.on('data', (chunk: Buffer) => (size += chunk.length));
    req.on('end', () => res.writeHead(200, { 'content-type': 'text/plain' }).end(String(size)));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

const portOf = (server: Server) => (server.address() as AddressInfo).port;

/** Opens a connection and sends a request's head and `sent` bytes of a body of `length`. */
function partialRequest(port: number, length: number, sent: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(`POST / HTTP/1.1\r\nhost: localhost\r\ncontent-length: ${length}\r\nconnection: keep-alive\r\n\r\n${sent}`);
      resolve(socket);
    });
    socket.on('error', reject);
  });
}

/** Everything the server sends on `socket` until it closes the connection. */
function readUntilClosed(socket: Socket): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
    socket.on('close', () => resolve(text));
  });
}

/** Whether a new connection to `port` is refused. */
const refused = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.destroy();
      resolve(false);
    });
    socket.on('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED'));
  });

/** Gives the server's event loop a few turns, so it reads what was sent. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 50));

describe(GracefulShutdown.name, () => {
  let server: Server | undefined;
  afterEach(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
  });

  it('answers the request in flight with Connection: close, refuses new connections, then closes the app', async () => {
    server = await startServer();
    const port = portOf(server);
    const steps: string[] = [];
    const sut = new GracefulShutdown(server, { close: async () => void steps.push('app closed') }, 5000);

    const socket = await partialRequest(port, 10, 'hello');
    const answer = readUntilClosed(socket);
    await settle();
    const stopped = sut.stop('SIGTERM').then((code) => {
      steps.push('stopped');
      return code;
    });
    await settle();
    expect(await refused(port)).toBe(true);
    expect(steps).toEqual([]);

    socket.write('world');
    const text = await answer;
    expect(text).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(text.toLowerCase()).toContain('connection: close');
    expect(text).toContain('\r\n\r\n2\r\n10\r\n0\r\n\r\n'); // the body: the length it read, chunked
    expect(await stopped).toBe(0);
    expect(steps).toEqual(['app closed', 'stopped']);
  });

  it('closes idle keep-alive connections at once', async () => {
    server = await startServer();
    const port = portOf(server);
    const sut = new GracefulShutdown(server, { close: async () => undefined }, 5000);

    // One request answered, its connection kept alive and idle.
    const socket = await partialRequest(port, 2, 'ok');
    const closed = readUntilClosed(socket);
    await settle();
    expect(await sut.stop('SIGTERM')).toBe(0);
    const text = await closed;
    expect(text).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(text.toLowerCase()).toContain('connection: keep-alive');
  });

  it('gives up with code 1 after the timeout when a request never completes', async () => {
    server = await startServer();
    const port = portOf(server);
    let appClosed = false;
    const sut = new GracefulShutdown(server, { close: async () => void (appClosed = true) }, 300);

    const socket = await partialRequest(port, 100, 'only part of it');
    await settle();
    const started = Date.now();
    expect(await sut.stop('SIGTERM')).toBe(1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(appClosed).toBe(false);
    socket.destroy();
  });

  it('returns 1 when closing the app fails, and the same outcome to a second call', async () => {
    server = await startServer();
    const sut = new GracefulShutdown(server, { close: () => Promise.reject(new Error('redis gone')) }, 5000);
    const first = sut.stop('SIGTERM');
    expect(sut.stop('SIGINT')).toBe(first);
    expect(await first).toBe(1);
  });

  it('works with an ordinary client on a keep-alive agent: the answer comes, the next request is refused', async () => {
    server = await startServer();
    const port = portOf(server);
    const sut = new GracefulShutdown(server, { close: async () => undefined }, 5000);
    const post = () =>
      new Promise<number>((resolve, reject) => {
        const req = request({ port, host: '127.0.0.1', method: 'POST', path: '/', headers: { connection: 'keep-alive' } }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        });
        req.on('error', reject);
        req.end('abc');
      });
    expect(await post()).toBe(200);
    expect(await sut.stop('SIGTERM')).toBe(0);
    await settle(); // the agent sees its idle connection closed
    await expect(post()).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });
});
