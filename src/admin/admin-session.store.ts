import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import connectPgSimple from 'connect-pg-simple';
import session from 'express-session';
import { APP_CONFIG, type AppConfig } from '../config/app.config.js';
import { postgresConnection } from '../database/postgres-connection.js';
import { ADMIN_SESSION_TABLE } from './admin.constants.js';

/** Connections the session store keeps to Postgres (page loads and Bull Board's polling only). */
const SESSION_POOL_SIZE = 2;

const PgSessionStore = connectPgSimple(session);

/**
 * The console's sessions in Postgres (the `admin_sessions` table, made by a migration), so that they
 * survive a restart, are shared by every API process and keep working while Redis is down. The store
 * reads no row past its `expire` and prunes them now and then; its pool closes with the app.
 */
@Injectable()
export class AdminSessionStore extends PgSessionStore implements OnModuleDestroy {
  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    const logger = new Logger(AdminSessionStore.name);
    super({
      conObject: { ...postgresConnection(config), max: SESSION_POOL_SIZE },
      tableName: ADMIN_SESSION_TABLE,
      createTableIfMissing: false,
      // A login lasts a fixed time (`AdminSessionService`), so a visit need not push the row's expiry on.
      disableTouch: true,
      errorLog: (...args: unknown[]) => logger.error(args.map((arg) => (arg instanceof Error ? arg.message : String(arg))).join(' ')),
    });
  }

  async onModuleDestroy(): Promise<void> {
    // connect-pg-simple's close() is async (it ends its pool); its types say void.
    await Promise.resolve(this.close() as unknown);
  }
}
