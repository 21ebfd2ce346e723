import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Jobs store what Magic Hour's schema allows: `credits_charged` as a `bigint` (the schema sets no
 * maximum), and whether `created_at` came from a payload, so that a late event carrying it replaces the
 * first arrival's time the job was given until then. Jobs stored before this keep their `created_at`.
 */
export class JobProjection1764310000000 implements MigrationInterface {
  name = 'JobProjection1764310000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    // The type change rewrites the table (the worker's job writes and GET /jobs wait meanwhile; intake
    // does not): on a large table it takes longer than the pool's statement timeout allows a statement.
    await queryRunner.query(`SET LOCAL statement_timeout = 0`);
    await queryRunner.query(`
      ALTER TABLE jobs
        ALTER COLUMN credits_charged TYPE bigint,
        ADD COLUMN created_at_reported boolean NOT NULL DEFAULT true`);
    // Jobs from now on start without a reported creation time, until a payload gives one.
    await queryRunner.query(`ALTER TABLE jobs ALTER COLUMN created_at_reported SET DEFAULT false`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    // Fails while a job holds credits past an integer, rather than changing them.
    await queryRunner.query(`
      ALTER TABLE jobs
        DROP COLUMN created_at_reported,
        ALTER COLUMN credits_charged TYPE integer`);
  }
}
