import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Reconciliation with Magic Hour's API: jobs may be `queued` (registered before any news) or
 * `canceled`; each event records its `source` (`webhook` or `api`); each job keeps when it was last
 * checked with the API, when it is next due, and whether the API said it does not know it; and one row
 * says whether reconciliation is paused because the API refused the key (401) or the account (402).
 *
 * The new constraints are `NOT VALID`: every stored row meets them already (the old status check is
 * narrower, the new column's default is `webhook`), and validating would scan tables under lock.
 */
export class Reconciliation1764300000000 implements MigrationInterface {
  name = 'Reconciliation1764300000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE jobs DROP CONSTRAINT IF EXISTS jobs_status_check`);
    await queryRunner.query(
      `ALTER TABLE jobs ADD CONSTRAINT jobs_status_check
         CHECK (status IN ('queued', 'rendering', 'complete', 'error', 'canceled')) NOT VALID`,
    );
    await queryRunner.query(`
      ALTER TABLE jobs
        ADD COLUMN reconcile_checks     integer NOT NULL DEFAULT 0,
        ADD COLUMN reconcile_checked_at timestamptz(3),
        ADD COLUMN reconcile_next_at    timestamptz(3),
        ADD COLUMN reconcile_outcome    text,
        ADD COLUMN api_not_found_at     timestamptz(3)`);
    await queryRunner.query(`ALTER TABLE webhook_events ADD COLUMN source text NOT NULL DEFAULT 'webhook'`);
    await queryRunner.query(
      `ALTER TABLE webhook_events ADD CONSTRAINT webhook_events_source_check CHECK (source IN ('webhook', 'api')) NOT VALID`,
    );
    await queryRunner.query(`
      CREATE TABLE reconcile_pause (
        id          boolean PRIMARY KEY DEFAULT true CHECK (id),
        http_status integer NOT NULL,
        reason      text NOT NULL,
        paused_at   timestamptz(3) NOT NULL DEFAULT now(),
        probe_at    timestamptz(3) NOT NULL
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE reconcile_pause`);
    await queryRunner.query(`ALTER TABLE webhook_events DROP COLUMN source`);
    await queryRunner.query(`
      ALTER TABLE jobs DROP COLUMN reconcile_checks, DROP COLUMN reconcile_checked_at, DROP COLUMN reconcile_next_at,
        DROP COLUMN reconcile_outcome, DROP COLUMN api_not_found_at`);
    await queryRunner.query(`ALTER TABLE jobs DROP CONSTRAINT jobs_status_check`);
    await queryRunner.query(
      `ALTER TABLE jobs ADD CONSTRAINT jobs_status_check CHECK (status IN ('rendering', 'complete', 'error')) NOT VALID`,
    );
  }
}
