import type { QueryRunner } from 'typeorm';

/**
 * Builds index `name` (`on`: the rest of its `CREATE INDEX`, from `ON`) with `CONCURRENTLY`, so that
 * writes to the table go on meanwhile; for a migration with `transaction = false`, since such a build
 * cannot run in a transaction. A concurrent build that was interrupted leaves an invalid index of the
 * name behind, which would satisfy `IF NOT EXISTS`: that one is dropped and built again.
 */
export async function createIndexConcurrently(queryRunner: QueryRunner, name: string, on: string): Promise<void> {
  const leftover = (await queryRunner.query(
    `SELECT 1 FROM pg_index JOIN pg_class ON pg_class.oid = pg_index.indexrelid
      WHERE pg_class.relname = $1 AND NOT pg_index.indisvalid`,
    [name],
  )) as unknown[];
  if (leftover.length > 0) await queryRunner.query(`DROP INDEX CONCURRENTLY ${name}`);
  await queryRunner.query(`CREATE INDEX CONCURRENTLY IF NOT EXISTS ${name} ${on}`);
}
