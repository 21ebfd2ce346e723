import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Where the operator console keeps its logins (`connect-pg-simple`'s store for `express-session`):
 * one row per session, with its data and when it ends. Logging out deletes the row, so a copied
 * cookie stops working at once; rows past `expire` are ignored and pruned by the store.
 */
export class AdminSessions1764280000000 implements MigrationInterface {
  name = 'AdminSessions1764280000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE admin_sessions (
        sid    text PRIMARY KEY,
        sess   json NOT NULL,
        expire timestamptz NOT NULL
      )`);
    await queryRunner.query(`CREATE INDEX admin_sessions_expire_idx ON admin_sessions (expire)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE admin_sessions`);
  }
}
