import type { MigrationInterface, QueryRunner } from 'typeorm';
import { createIndexConcurrently } from '../concurrent-index.js';

/**
 * The relay asks the same question of handler runs as of events (`RelayIndex1764260000000`): which
 * open runs may the queue not hold? Filtering every open run, as a pass did, costs in proportion to
 * the handlers' backlog (a slow handler, such as the downloads, builds one). This index makes each
 * half of the question a range: never queued, by last update; queued long ago.
 *
 * Built `CONCURRENTLY`, outside a transaction, so that workers keep writing runs meanwhile.
 */
export class HandlerRelayIndex1764270000000 implements MigrationInterface {
  name = 'HandlerRelayIndex1764270000000';
  transaction = false;

  async up(queryRunner: QueryRunner): Promise<void> {
    await createIndexConcurrently(
      queryRunner,
      'event_handler_runs_relay_idx',
      `ON event_handler_runs (enqueued_at, updated_at) WHERE status IN ('pending', 'running', 'failed')`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    // Not CONCURRENTLY: TypeORM reverts a migration inside a transaction, whatever it says.
    await queryRunner.query(`DROP INDEX IF EXISTS event_handler_runs_relay_idx`);
  }
}
