import { type DynamicModule, Global, Module } from '@nestjs/common';
import { getDataSourceToken, TypeOrmModule } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { MAGIC_HOUR_ENTITIES } from './data-source.options.js';
import { migrateHostDatabase } from './database.bootstrap.js';
import { MAGIC_HOUR_DATA_SOURCE } from './magic-hour-data-source.js';

/** How this service reaches an existing TypeORM data source. */
export interface DatabaseModuleOptions {
  /** The data source's name in `TypeOrmModule.forRoot({ name })`; the default one when not given. */
  dataSourceName?: string;
  /** Apply this service's pending migrations at start (under an advisory lock). */
  migrationsRun: boolean;
}

/**
 * The data source under `MAGIC_HOUR_DATA_SOURCE`: an existing one (the standalone service's, or a host
 * app's), refused at start when it is not Postgres or does not know this service's entities, and
 * migrated first when asked. It never creates a database.
 */
@Global()
@Module({})
export class DatabaseModule {
  static forRoot(options: DatabaseModuleOptions): DynamicModule {
    return {
      module: DatabaseModule,
      // With the host's `autoLoadEntities`, this registers the entities with its data source.
      imports: [TypeOrmModule.forFeature(MAGIC_HOUR_ENTITIES, options.dataSourceName)],
      providers: [
        {
          provide: MAGIC_HOUR_DATA_SOURCE,
          inject: [getDataSourceToken(options.dataSourceName)],
          useFactory: async (dataSource: DataSource) => {
            const missing = MAGIC_HOUR_ENTITIES.filter((entity) => !dataSource.hasMetadata(entity));
            if (missing.length > 0) {
              throw new Error(
                `MagicHourWebhooksModule: the data source does not know ${missing.map((entity) => entity.name).join(', ')}; ` +
                  'add MAGIC_HOUR_ENTITIES to its entities, or set autoLoadEntities: true in TypeOrmModule.forRoot',
              );
            }
            if (options.migrationsRun) await migrateHostDatabase(dataSource);
            return dataSource;
          },
        },
      ],
      exports: [MAGIC_HOUR_DATA_SOURCE],
    };
  }
}
