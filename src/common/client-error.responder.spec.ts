import { describe, expect, it } from '@jest/globals';
import { createServer, request, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

describe('Node internals the client-error responder relies on', () => {
  // `responseStarted` reads `socket._httpMessage`, which Node keeps but does not document: when Node stops
  // setting it, this fails, and the responder must find another way before a parser error can corrupt an answer.
  it('keeps the response in flight on its socket as `_httpMessage`', async () => {
    let seen: unknown;
    const server = createServer((_request, response: ServerResponse) => {
      seen = (response.socket as unknown as { _httpMessage?: unknown })._httpMessage === response;
      response.end('ok');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise<void>((resolve, reject) => {
      request({ port, host: '127.0.0.1', path: '/' }, (response) => response.resume().on('end', resolve))
        .on('error', reject)
        .end();
    });
    await new Promise<void>((resolve) => server.close(() => resolve()));
    expect(seen).toBe(true);
  });
});
