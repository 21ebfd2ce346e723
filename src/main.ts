/**
 * Starts the service (`node dist/src/main.js`): the app with its configuration, graceful shutdown, and
 * the port. V8's heap growth is set on the `node` command line by the npm scripts and the Dockerfile.
 */
import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import type { Server } from 'node:http';
import { createApp, logStartupFailure } from './app.setup.js';
import { GracefulShutdown } from './common/graceful-shutdown.js';
import { loadConfig } from './config/app.config.js';

async function bootstrap(): Promise<void> {
  const config = loadConfig();
  const app = await createApp(config);
  // SIGTERM and SIGINT: stop taking connections, answer what is in flight, finish the queue jobs under
  // way, exit 0 (or 1 past SHUTDOWN_TIMEOUT_MS). Nest's own shutdown hooks would close the database
  // while the server still takes requests, and end the process by the signal rather than with code 0.
  new GracefulShutdown(app.getHttpServer() as Server, app, config.shutdownTimeoutMs).listen();
  await app.listen(config.port);
  new Logger('Bootstrap').log(`Magic Hour webhook service (${config.role}) listening on port ${config.port}`);
}

bootstrap().catch((error: unknown) => {
  logStartupFailure(error);
  process.exit(1);
});
