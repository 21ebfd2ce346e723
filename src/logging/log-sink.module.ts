import { type DynamicModule, Global, Module } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app.config.js';
import { nestLogSink } from './nest-log-sink.js';
import { PinoLogger, ROOT_LOGGER, type LogSink } from './pino-logger.js';

/** Provides the root logger (`ROOT_LOGGER`) and `PinoLogger` over it to every module. */
@Global()
@Module({})
export class LogSinkModule {
  /** @param sink where lines go (the service's pino logger); Nest's `Logger` at `AppConfig.logLevel` when not given */
  static forRoot(sink?: LogSink): DynamicModule {
    return {
      module: LogSinkModule,
      providers: [
        { provide: ROOT_LOGGER, inject: [APP_CONFIG], useFactory: (config: AppConfig): LogSink => sink ?? nestLogSink(config.logLevel) },
        PinoLogger,
      ],
      exports: [ROOT_LOGGER, PinoLogger],
    };
  }
}
