import type { DataSourceOptions } from 'typeorm';
import { JobEntity } from './entities/job.entity.js';
import { WebhookEventEntity } from './entities/webhook-event.entity.js';
import { InitialSchema1764230000000 } from './migrations/1764230000000-initial-schema.js';
import { HandlerRuns1764240000000 } from './migrations/1764240000000-handler-runs.js';
import { StaleEventsAndConflicts1764250000000 } from './migrations/1764250000000-stale-events-and-conflicts.js';
import { RelayIndex1764260000000 } from './migrations/1764260000000-relay-index.js';
import { HandlerRelayIndex1764270000000 } from './migrations/1764270000000-handler-relay-index.js';
import { AdminSessions1764280000000 } from './migrations/1764280000000-admin-sessions.js';
import { JobProjection1764310000000 } from './migrations/1764310000000-job-projection.js';
import { RetentionIndex1764320000000 } from './migrations/1764320000000-retention-index.js';
import { TimeOrderedIds1764330000000 } from './migrations/1764330000000-time-ordered-ids.js';
import { StoredFilePathIndex1764340000000 } from './migrations/1764340000000-stored-file-path-index.js';
import { Reconciliation1764300000000 } from './migrations/1764300000000-reconciliation.js';
import { ReconcileIndex1764300001000 } from './migrations/1764300001000-reconcile-index.js';

import { postgresConnection, type DatabaseTarget } from './postgres-connection.js';

/** The entities the service maps; a host app's data source must know them (`MagicHourWebhooksModule`). */
export const MAGIC_HOUR_ENTITIES = [WebhookEventEntity, JobEntity];

/** The schema's migrations, oldest first; a host app may run them itself (`migrationsRun: false`). */
export const MAGIC_HOUR_MIGRATIONS = [
  InitialSchema1764230000000,
  HandlerRuns1764240000000,
  StaleEventsAndConflicts1764250000000,
  RelayIndex1764260000000,
  HandlerRelayIndex1764270000000,
  AdminSessions1764280000000,
  Reconciliation1764300000000,
  ReconcileIndex1764300001000,
  JobProjection1764310000000,
  RetentionIndex1764320000000,
  TimeOrderedIds1764330000000,
  StoredFilePathIndex1764340000000,
];

/** The table that records which of `MAGIC_HOUR_MIGRATIONS` ran; its own, apart from a host app's. */
export const MIGRATIONS_TABLE_NAME = 'typeorm_migrations';

/**
 * The one description of the database, used by the application, the TypeORM CLI (`ormconfig.ts`)
 * and the tests; the connection itself (TLS, pool, timeouts) is `postgresConnection`'s. The schema
 * comes only from migrations; `synchronize` stays off. TLS is in `ssl`, so that a caller replacing
 * `extra` (the pool) keeps it.
 */
export function dataSourceOptions(database: DatabaseTarget): DataSourceOptions {
  const { connectionString, ssl, ...pool } = postgresConnection(database);
  return {
    type: 'postgres',
    url: connectionString,
    ssl,
    entities: MAGIC_HOUR_ENTITIES,
    migrations: MAGIC_HOUR_MIGRATIONS,
    migrationsTableName: MIGRATIONS_TABLE_NAME,
    // Each migration in a transaction of its own unless it says otherwise: an index built
    // concurrently cannot be built in one. The TypeORM CLI and `prepareDatabase` both go by this.
    migrationsTransactionMode: 'each',
    synchronize: false,
    migrationsRun: false,
    // Failed queries are logged by the code that sees them, with context; TypeORM's own log would repeat
    // them with every parameter, payloads included.
    logging: ['warn', 'migration'],
    extra: pool,
  };
}
