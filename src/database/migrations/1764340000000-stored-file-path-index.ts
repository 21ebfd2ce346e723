import type { MigrationInterface, QueryRunner } from 'typeorm';
import { createIndexConcurrently } from '../concurrent-index.js';

/**
 * Retention removes a stored file only when no other row names its path (a file stored again from a
 * fresh URL gets a row of its own at the same path); without an index, each batch would read the table.
 *
 * Built `CONCURRENTLY`, outside a transaction, so that the download handler keeps writing meanwhile.
 */
export class StoredFilePathIndex1764340000000 implements MigrationInterface {
  name = 'StoredFilePathIndex1764340000000';
  transaction = false;

  async up(queryRunner: QueryRunner): Promise<void> {
    await createIndexConcurrently(queryRunner, 'stored_files_path_idx', `ON stored_files (path)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    // Not CONCURRENTLY: TypeORM reverts a migration inside a transaction, whatever it says.
    await queryRunner.query(`DROP INDEX IF EXISTS stored_files_path_idx`);
  }
}
