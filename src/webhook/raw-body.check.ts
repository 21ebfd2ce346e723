import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { Request, Response } from 'express';
import { randomUUID } from 'node:crypto';
import { createServer, request as httpRequest, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Injection token of the webhook's route path (no leading or trailing slash). */
export const WEBHOOK_PATH = Symbol('WEBHOOK_PATH');

/** The header of the start-up probe, and the one its answer says what the webhook route saw. */
const PROBE_HEADER = 'x-magic-hour-webhooks-probe';
const SEEN_HEADER = 'x-magic-hour-webhooks-body';
/** The probe's proof that it is the probe (a client cannot guess it). */
const PROBE_TOKEN = randomUUID();

/** What the webhook route finds of a delivery's body: unread (it reads the raw bytes), kept raw by the app, or parsed and lost. */
export type BodyState = 'unread' | 'raw' | 'parsed';

/** Whether something before the webhook's middleware read the body, and whether it kept the raw bytes. */
export function bodyState(request: Request): BodyState {
  if (!request.readableEnded) return 'unread';
  return Buffer.isBuffer((request as Request & { rawBody?: unknown }).rawBody) ? 'raw' : 'parsed';
}

/** How a host app fixes a body parser that would break the signature check. */
export const RAW_BODY_ADVICE =
  'create the app with NestFactory.create(AppModule, { rawBody: true }) (or bodyParser: false), ' +
  'and register no other JSON body parser (express.json) in front of the webhook route';

/** A layer of Express's router, as far as finding a route goes. */
interface RouterLayer {
  route?: { path?: unknown; methods?: Record<string, boolean> };
}

/** The full path (with the app's global prefix, if any) of the POST route Nest mapped for the webhook. */
function webhookRoute(stack: readonly RouterLayer[], path: string): string | undefined {
  const routes = stack.flatMap((layer) =>
    layer.route?.methods?.post && typeof layer.route.path === 'string' ? [layer.route.path.replace(/\/+$/, '')] : [],
  );
  return routes.find((route) => route === `/${path}`) ?? routes.find((route) => route.endsWith(`/${path}`));
}

/**
 * Answers `RawBodyCheck`'s probe with what the webhook route found of its body, and says so; `false` for
 * every other request. Called by the route's first middleware (`WebhookDeliveryLogMiddleware`), before
 * anything reads the body, rather than from a middleware of its own that every delivery would pass.
 */
export function answerBodyProbe(request: Request, response: Response): boolean {
  if (request.headers[PROBE_HEADER] !== PROBE_TOKEN) return false;
  response.setHeader(SEEN_HEADER, bodyState(request));
  response.status(204).end();
  return true;
}

/**
 * At start, sends one request through the app's own Express handler (on a throwaway local server) to
 * the webhook route, and fails the start when the app's body parsing (a global `express.json`, Nest's
 * default parser without `rawBody: true`) would leave the signature check without the raw bytes.
 */
@Injectable()
export class RawBodyCheck implements OnApplicationBootstrap {
  private readonly logger = new Logger('MagicHourWebhooks');

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    @Inject(WEBHOOK_PATH) private readonly path: string,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const adapter = this.adapterHost.httpAdapter;
    if (!adapter) return;
    if (adapter.getType() !== 'express') {
      throw new Error(`MagicHourWebhooksModule needs @nestjs/platform-express; this app runs on ${adapter.getType()}`);
    }
    const app = adapter.getInstance<RequestListener & { router?: { stack?: RouterLayer[] } }>();
    const route = webhookRoute(app.router?.stack ?? [], this.path);
    if (route === undefined) {
      this.logger.warn(`Could not check the body parsing of the webhook route: no POST route ending in /${this.path} found`);
      return;
    }
    const { status, seen } = await this.probe(app, route);
    if (seen === 'parsed') {
      throw new Error(
        `MagicHourWebhooksModule: the app parses JSON bodies before POST ${route} and keeps no raw body, so no signature could be checked: ${RAW_BODY_ADVICE}`,
      );
    }
    if (seen === undefined) {
      this.logger.warn(`Could not check the body parsing of POST ${route}: the app answered ${status} before the webhook's middleware`);
    }
  }

  private async probe(handler: RequestListener, route: string): Promise<{ status?: number; seen?: BodyState }> {
    const server = createServer(handler);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      return await new Promise((resolve, reject) => {
        const body = '{}';
        const request = httpRequest(
          {
            host: '127.0.0.1',
            port,
            path: route,
            method: 'POST',
            headers: {
              [PROBE_HEADER]: PROBE_TOKEN,
              'content-type': 'application/json',
              'content-length': body.length,
              connection: 'close',
            },
          },
          (response) => {
            response.resume();
            const seen = response.headers[SEEN_HEADER];
            resolve({ status: response.statusCode, seen: typeof seen === 'string' ? (seen as BodyState) : undefined });
          },
        );
        request.on('error', reject);
        request.end(body);
      });
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }
}
