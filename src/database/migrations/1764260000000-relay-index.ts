import type { MigrationInterface, QueryRunner } from 'typeorm';
import { createIndexConcurrently } from '../concurrent-index.js';

/**
 * An index for the relay's question, "which waiting events may the queue not hold?", so that a pass
 * reads only the events it returns. Without it, every pass (each worker process, every 2 s) read
 * every waiting event: 40 ms of Postgres time per pass with 60,000 of them, growing with the backlog
 * while the workers were trying to drain it.
 *
 * Only waiting events are in it, and intake marks them queued as it stores them, so it grows at
 * the index's right edge; never-queued events (their hand-over failed) sort together, by arrival.
 *
 * Built `CONCURRENTLY`, outside a transaction, so that intake keeps writing to a large table while
 * the index is built: a plain `CREATE INDEX` would hold its writes until the build ended.
 */
export class RelayIndex1764260000000 implements MigrationInterface {
  name = 'RelayIndex1764260000000';
  transaction = false;

  async up(queryRunner: QueryRunner): Promise<void> {
    await createIndexConcurrently(
      queryRunner,
      'webhook_events_relay_idx',
      `ON webhook_events (enqueued_at, received_at, id) WHERE status = 'received'`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    // Not CONCURRENTLY: TypeORM reverts a migration inside a transaction, whatever it says.
    await queryRunner.query(`DROP INDEX IF EXISTS webhook_events_relay_idx`);
  }
}
