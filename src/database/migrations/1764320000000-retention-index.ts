import type { MigrationInterface, QueryRunner } from 'typeorm';
import { createIndexConcurrently } from '../concurrent-index.js';

/**
 * Retention removes stored files oldest first (`DOWNLOAD_RETENTION_DAYS`); without an index on when
 * they were stored, each of its batches would read the whole table. Events and jobs already have the
 * indexes their retention reads (`webhook_events_status_idx`, `jobs_status_created_idx`).
 *
 * Built `CONCURRENTLY`, outside a transaction, so that the download handler keeps writing meanwhile.
 */
export class RetentionIndex1764320000000 implements MigrationInterface {
  name = 'RetentionIndex1764320000000';
  transaction = false;

  async up(queryRunner: QueryRunner): Promise<void> {
    await createIndexConcurrently(queryRunner, 'stored_files_stored_at_idx', `ON stored_files (stored_at)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    // Not CONCURRENTLY: TypeORM reverts a migration inside a transaction, whatever it says.
    await queryRunner.query(`DROP INDEX IF EXISTS stored_files_stored_at_idx`);
  }
}
