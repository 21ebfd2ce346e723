import { afterEach, describe, expect, it } from '@jest/globals';
import type { Express, Request, Response } from 'express';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ExpressAdapter } from '@nestjs/platform-express';
import { ExpressPrototypesAdapter } from './express-prototypes.adapter.js';

/** What a request's and its response's prototypes were as Node built them, before Express saw them. */
interface Seen {
  request: object | null;
  response: object | null;
}

/** Serves `GET /echo` through `adapter`'s Express app and server; records each request's prototypes as built. */
async function serve(adapter: ExpressAdapter): Promise<{ server: Server; app: Express; seen: Seen[] }> {
  adapter.initHttpServer({});
  const app = adapter.getInstance<Express>();
  const server = adapter.getHttpServer() as Server;
  const seen: Seen[] = [];
  server.prependListener('request', (request: IncomingMessage, response: ServerResponse) => {
    seen.push({ request: Object.getPrototypeOf(request) as object, response: Object.getPrototypeOf(response) as object });
  });
  app.get('/echo', (request: Request, response: Response) => {
    response.status(201).json({ host: request.get('host'), unchanged: Object.getPrototypeOf(request) === seen.at(-1)!.request });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, app, seen };
}

describe('ExpressPrototypesAdapter', () => {
  let server: Server | undefined;
  afterEach(async () => {
    await new Promise((resolve) => server?.close(resolve));
    server = undefined;
  });

  it("builds each request and response on Express's prototypes, so Express's swap changes nothing", async () => {
    const served = await serve(new ExpressPrototypesAdapter());
    server = served.server;
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/echo`;
    for (let i = 0; i < 2; i++) {
      const answer = await fetch(url);
      // Express's own request and response methods still work: get(), status(), json().
      expect(answer.status).toBe(201);
      expect(await answer.json()).toEqual({ host: new URL(url).host, unchanged: true });
    }
    expect(served.seen).toHaveLength(2);
    for (const { request, response } of served.seen) {
      expect(request).toBe(served.app.request);
      expect(response).toBe(served.app.response);
    }
  });

  it("is what Nest's own adapter does not do: there Express swaps every prototype", async () => {
    const served = await serve(new ExpressAdapter());
    server = served.server;
    const answer = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/echo`);
    expect(await answer.json()).toMatchObject({ unchanged: false });
    expect(served.seen[0].request).not.toBe(served.app.request);
  });
});
