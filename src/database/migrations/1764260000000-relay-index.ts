import type { MigrationInterface, QueryRunner } from 'typeorm';

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
    // A concurrent build that was interrupted leaves an invalid index of this name: build it again.
    const leftover: unknown[] = await queryRunner.query(
      `SELECT 1 FROM pg_index JOIN pg_class ON pg_class.oid = pg_index.indexrelid
        WHERE pg_class.relname = 'webhook_events_relay_idx' AND NOT pg_index.indisvalid`,
    );
    if (leftover.length > 0) await queryRunner.query(`DROP INDEX CONCURRENTLY webhook_events_relay_idx`);
    await queryRunner.query(
      `CREATE INDEX CONCURRENTLY IF NOT EXISTS webhook_events_relay_idx
         ON webhook_events (enqueued_at, received_at, id) WHERE status = 'received'`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX CONCURRENTLY IF EXISTS webhook_events_relay_idx`);
  }
}
