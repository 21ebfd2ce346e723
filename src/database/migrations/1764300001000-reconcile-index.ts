import type { MigrationInterface, QueryRunner } from 'typeorm';
import { createIndexConcurrently } from '../concurrent-index.js';

/**
 * The reconciler's question, "which unfinished jobs are due a check?", reads only unfinished jobs:
 * a partial index keeps it small however many finished jobs the table holds. Built `CONCURRENTLY`,
 * outside a transaction, so that workers keep writing jobs meanwhile.
 */
export class ReconcileIndex1764300001000 implements MigrationInterface {
  name = 'ReconcileIndex1764300001000';
  transaction = false;

  async up(queryRunner: QueryRunner): Promise<void> {
    await createIndexConcurrently(queryRunner, 'jobs_reconcile_idx', `ON jobs (updated_at) WHERE status IN ('queued', 'rendering')`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX IF EXISTS jobs_reconcile_idx`);
  }
}
