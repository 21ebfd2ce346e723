import { type DynamicModule, type FactoryProvider, Global, Module, type ModuleMetadata } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from './app.config.js';

/** Provides the validated `AppConfig` under `APP_CONFIG` to every module. */
@Global()
@Module({})
export class AppConfigModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: AppConfigModule,
      providers: [{ provide: APP_CONFIG, useValue: config }],
      exports: [APP_CONFIG],
    };
  }

  /** The `AppConfig` made by `useFactory` at start, from what `inject` names (provided by `imports`). */
  static forRootAsync(options: {
    imports?: ModuleMetadata['imports'];
    inject?: FactoryProvider['inject'];
    useFactory: (...args: never[]) => AppConfig | Promise<AppConfig>;
  }): DynamicModule {
    return {
      module: AppConfigModule,
      imports: options.imports ?? [],
      providers: [{ provide: APP_CONFIG, inject: options.inject ?? [], useFactory: options.useFactory }],
      exports: [APP_CONFIG],
    };
  }
}
