import { DynamicModule, Module, type Provider } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { JobsModule } from '../jobs/jobs.module.js';
import { WebhookEventRepository } from '../webhook/webhook-event.repository.js';
import { DownloadOutputsHandler } from './download-outputs.handler.js';
import { HandlerRunRepository } from './handler-run.repository.js';
import { HandlerRunner } from './handler-runner.service.js';
import { DISABLED_HANDLER_CLASSES, MagicHourHandlerRegistry } from './handler-registry.js';

/**
 * Your event handlers: add each class with `@OnMagicHourEvent` methods to this list. They are found at
 * start and run in the worker after their event was applied to its job.
 */
const HANDLERS: Provider[] = [];

/** The extension point: the handlers, their registry, runner and run records. */
@Module({})
export class HandlersModule {
  /**
   * @param downloadDir `AppConfig.downloadDir`: where the shipped download handler stores outputs, or `null` (off)
   * @param extraHandlers more handler providers (tests, or an application that embeds this service)
   */
  static register(downloadDir: string | null, extraHandlers: Provider[] = []): DynamicModule {
    // The download handler stores files only where DOWNLOAD_DIR says; without it, it is off.
    const builtIn: Provider[] = downloadDir ? [DownloadOutputsHandler] : [];
    const disabled = downloadDir ? [] : [DownloadOutputsHandler];
    return {
      module: HandlersModule,
      global: true,
      imports: [DiscoveryModule, JobsModule],
      providers: [
        { provide: DISABLED_HANDLER_CLASSES, useValue: disabled },
        MagicHourHandlerRegistry,
        HandlerRunRepository,
        WebhookEventRepository,
        HandlerRunner,
        ...builtIn,
        ...HANDLERS,
        ...extraHandlers,
      ],
      exports: [MagicHourHandlerRegistry, HandlerRunRepository, HandlerRunner],
    };
  }
}
