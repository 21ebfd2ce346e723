import type { DataSourceOptions } from 'typeorm';
import { JobEntity } from './entities/job.entity.js';
import { WebhookEventEntity } from './entities/webhook-event.entity.js';
import { InitialSchema1764230000000 } from './migrations/1764230000000-initial-schema.js';
import { HandlerRuns1764240000000 } from './migrations/1764240000000-handler-runs.js';
import { StaleEventsAndConflicts1764250000000 } from './migrations/1764250000000-stale-events-and-conflicts.js';
import { RelayIndex1764260000000 } from './migrations/1764260000000-relay-index.js';
import { HandlerRelayIndex1764270000000 } from './migrations/1764270000000-handler-relay-index.js';
import { AdminSessions1764280000000 } from './migrations/1764280000000-admin-sessions.js';
import { Reconciliation1764300000000 } from './migrations/1764300000000-reconciliation.js';
import { ReconcileIndex1764300001000 } from './migrations/1764300001000-reconcile-index.js';

/** Connections one process keeps open to Postgres. */
export const DATABASE_POOL_SIZE = 20;
/** How long a request waits for a connection before intake answers 503 instead of hanging. */
export const DATABASE_CONNECT_TIMEOUT_MS = 3000;
/** The longest any one statement may run; keeps a stuck database from holding requests past Magic Hour's 10 s. */
export const DATABASE_STATEMENT_TIMEOUT_MS = 5000;

/**
 * The one description of the database, used by the application, the TypeORM CLI (`ormconfig.ts`)
 * and the tests. The schema comes only from migrations; `synchronize` stays off.
 */
export function dataSourceOptions(databaseUrl: string): DataSourceOptions {
  return {
    type: 'postgres',
    url: databaseUrl,
    entities: [WebhookEventEntity, JobEntity],
    migrations: [
      InitialSchema1764230000000,
      HandlerRuns1764240000000,
      StaleEventsAndConflicts1764250000000,
      RelayIndex1764260000000,
      HandlerRelayIndex1764270000000,
      AdminSessions1764280000000,
      Reconciliation1764300000000,
      ReconcileIndex1764300001000,
    ],
    migrationsTableName: 'typeorm_migrations',
    // Each migration in a transaction of its own unless it says otherwise: an index built
    // concurrently cannot be built in one. The TypeORM CLI and `prepareDatabase` both go by this.
    migrationsTransactionMode: 'each',
    synchronize: false,
    migrationsRun: false,
    // Failed queries are logged by the code that sees them, with context; TypeORM's own log would repeat
    // them with every parameter, payloads included.
    logging: ['warn', 'migration'],
    extra: {
      max: DATABASE_POOL_SIZE,
      connectionTimeoutMillis: DATABASE_CONNECT_TIMEOUT_MS,
      statement_timeout: DATABASE_STATEMENT_TIMEOUT_MS,
      idle_in_transaction_session_timeout: DATABASE_STATEMENT_TIMEOUT_MS * 2,
    },
  };
}
