import { Logger } from '@nestjs/common';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/** The signals that stop the service gracefully: a supervisor's stop, and Ctrl-C. */
export const SHUTDOWN_SIGNALS: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGINT'];

/** What is stopped after the HTTP server: the Nest application (its queues, then its database). */
export interface Closable {
  close(): Promise<void>;
}

/**
 * Stops the process without dropping work, within a bound:
 * 1. stop listening, so new connections are refused; close idle keep-alive connections at once;
 * 2. answer every request already received, each with `Connection: close`, so that no client sends
 *    another one on the same connection; wait until every connection has closed;
 * 3. close the application: the queues stop taking jobs and wait for the ones under way (while
 *    Postgres is still open), then the database and Redis connections close;
 * 4. exit 0.
 * If that takes longer than the timeout, the process exits 1 without waiting further. Nothing is lost
 * then either: an unanswered request is retried by Magic Hour, and a queue job cut short is taken over
 * by another worker once its lock lapses (or queued again by the relay).
 */
export class GracefulShutdown {
  private readonly logger = new Logger('Shutdown');
  private readonly inFlight = new Set<ServerResponse>();
  private draining = false;
  private stopping: Promise<number> | undefined;

  /**
   * Must be built before the server listens, so that it sees every request.
   * @param timeoutMs longest the whole stop may take (`SHUTDOWN_TIMEOUT_MS`)
   */
  constructor(
    private readonly server: Server,
    private readonly app: Closable,
    private readonly timeoutMs: number,
  ) {
    // First of the request listeners, so that even a response written at once carries the header.
    server.prependListener('request', (_request: IncomingMessage, response: ServerResponse) => {
      this.inFlight.add(response);
      response.once('close', () => this.inFlight.delete(response));
      if (this.draining) response.setHeader('connection', 'close');
    });
  }

  /** Stops on the first of `signals` and exits with the outcome; further signals change nothing. */
  listen(signals: readonly NodeJS.Signals[] = SHUTDOWN_SIGNALS, exit: (code: number) => void = (code) => process.exit(code)): void {
    for (const signal of signals) process.on(signal, () => void this.stop(signal).then(exit));
  }

  /**
   * Runs the graceful stop once (later calls get the same outcome): resolves 0 when everything finished
   * within the timeout, 1 when the timeout passed or closing failed.
   */
  stop(reason: string): Promise<number> {
    this.stopping ??= this.run(reason);
    return this.stopping;
  }

  private async run(reason: string): Promise<number> {
    const started = Date.now();
    this.logger.log(`${reason}: stopping; answering ${this.inFlight.size} request(s) in flight (at most ${this.timeoutMs} ms)`);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<number>((resolve) => {
      timer = setTimeout(() => {
        this.logger.error(
          `Not stopped within ${this.timeoutMs} ms (${this.inFlight.size} request(s) still unanswered); exiting with code 1. ` +
            'Queue jobs cut short are taken over by another worker.',
        );
        resolve(1);
      }, this.timeoutMs);
    });
    const graceful = (async () => {
      await this.drainHttp();
      await this.app.close();
      this.logger.log(`Stopped in ${Date.now() - started} ms`);
      return 0;
    })().catch((error: unknown) => {
      this.logger.error(`Stopping failed: ${error instanceof Error ? error.message : String(error)}`);
      return 1;
    });
    try {
      return await Promise.race([graceful, timedOut]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Resolves once the server has stopped listening and every connection has closed. */
  private drainHttp(): Promise<void> {
    this.draining = true;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const response of this.inFlight) {
      if (!response.headersSent) {
        response.setHeader('connection', 'close');
      } else {
        // Too late for the header: close the connection once this answer is out.
        const socket: Socket | null = response.socket;
        response.once('finish', () => socket?.end());
      }
    }
    // Node closes the idle keep-alive connections in `close()`; those answering close after their answer.
    return closed;
  }
}
