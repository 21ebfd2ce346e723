import type { NestApplicationOptions } from '@nestjs/common';
import { ExpressAdapter } from '@nestjs/platform-express';
import type { Express } from 'express';
import { createServer, IncomingMessage, ServerResponse } from 'node:http';

/**
 * Nest's Express adapter, with an HTTP server that builds every request and response on Express's
 * prototypes from the start (Node's `IncomingMessage` and `ServerResponse` options). Express swaps
 * the prototype of each request and response it handles (`Object.setPrototypeOf`); after that swap
 * V8 gives every property added to the object a new hidden class, request after request: CPU on
 * every request and a filling old generation (docs/performance.md). Here Express's swap finds the
 * prototype it sets already in place and changes nothing.
 */
export class ExpressPrototypesAdapter extends ExpressAdapter {
  override initHttpServer(options: NestApplicationOptions): void {
    // HTTPS and Nest's shutdown options are left to Nest's own server; the service sets none of them.
    if (options.httpsOptions || options.forceCloseConnections || options.return503OnClosing) {
      super.initHttpServer(options);
      return;
    }
    const app = this.getInstance<Express>();
    // Node builds each request and response as an instance of these classes, whose prototypes sit on
    // Express's; they become Express's `app.request` and `app.response`, which Express sets on each one.
    class ExpressRequest extends IncomingMessage {}
    class ExpressResponse extends ServerResponse {}
    Object.setPrototypeOf(ExpressRequest.prototype, app.request);
    Object.setPrototypeOf(ExpressResponse.prototype, app.response);
    app.request = ExpressRequest.prototype as Express['request'];
    app.response = ExpressResponse.prototype as Express['response'];
    this.httpServer = createServer({ IncomingMessage: ExpressRequest, ServerResponse: ExpressResponse }, app);
  }
}
