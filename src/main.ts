import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { createApp, logStartupFailure } from './app.setup.js';
import { loadConfig } from './config/app.config.js';

async function bootstrap(): Promise<void> {
  const config = loadConfig();
  const app = await createApp(config);
  await app.listen(config.port);
  new Logger('Bootstrap').log(`Magic Hour webhook service (${config.role}) listening on port ${config.port}`);
}

bootstrap().catch((error: unknown) => {
  logStartupFailure(error);
  process.exit(1);
});
