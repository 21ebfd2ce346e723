import { createBullBoard } from '@bull-board/api';
import { BullAdapter } from '@bull-board/api/bullAdapter';
import { ExpressAdapter } from '@bull-board/express';
import { InjectQueue } from '@nestjs/bull';
import { Injectable } from '@nestjs/common';
import type { RequestHandler } from 'express';
import type { Queue } from 'bull';
import { HANDLER_QUEUE, WEBHOOK_QUEUE } from './queue.constants.js';

/** Links Bull Board shows in its menu. */
export interface QueueBoardLink {
  text: string;
  url: string;
}

/**
 * Bull Board over both of the service's queues. It lives beside the queues so that the queue library
 * stays inside the webhook module; the console mounts the handler it builds (behind its login).
 */
@Injectable()
export class QueueBoard {
  constructor(
    @InjectQueue(WEBHOOK_QUEUE) private readonly events: Queue,
    @InjectQueue(HANDLER_QUEUE) private readonly handlers: Queue,
  ) {}

  /** An Express handler serving the board (its page, assets and API) when mounted at `basePath`. */
  handler(basePath: string, links: QueueBoardLink[] = []): RequestHandler {
    const server = new ExpressAdapter().setBasePath(basePath);
    createBullBoard({
      queues: [
        new BullAdapter(this.events, { description: 'Stored webhook events on their way to the worker (batches)' }),
        new BullAdapter(this.handlers, { description: 'Events whose @OnMagicHourEvent handlers are to run' }),
      ],
      serverAdapter: server,
      options: { uiConfig: { boardTitle: 'Magic Hour queues', miscLinks: links, hideDocsLink: true } },
    });
    // The adapter's router is an Express app of its own: it does not inherit the service's settings.
    const board = server.getRouter() as RequestHandler & { disable(setting: string): void };
    board.disable('x-powered-by');
    return board;
  }
}
