import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The tables whose `uuid` ids Postgres generates, each growing with the events. */
const TABLES = ['webhook_events', 'event_handler_runs', 'webhook_event_conflicts', 'stored_files'] as const;

/**
 * New rows get time-ordered ids (UUID version 7, RFC 9562: 48 bits of Unix milliseconds, then random
 * bits) instead of random ones. A random id puts each insert on a random leaf of the primary key, so on
 * a large table nearly every insert reads a leaf that is not in shared buffers and dirties it, with a
 * full page image in the WAL after each checkpoint; a time-ordered id lands on the rightmost leaf.
 * The ids keep their type and format; existing rows keep theirs.
 *
 * `magic_hour_uuid_v7(at)` takes the time to encode, so that data loaded after the fact (the
 * benchmark's fill) gets the ids its rows would have had. Postgres 15 has no `uuidv7()` of its own.
 */
export class TimeOrderedIds1764330000000 implements MigrationInterface {
  name = 'TimeOrderedIds1764330000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    // A version 4 UUID with its first 6 bytes replaced by the time in milliseconds (big-endian), and
    // its version nibble turned from 0100 into 0111 (bits 52 and 53 of the bytea); the variant stays.
    await queryRunner.query(`
      CREATE FUNCTION magic_hour_uuid_v7(at timestamptz DEFAULT clock_timestamp()) RETURNS uuid
      LANGUAGE sql VOLATILE PARALLEL SAFE
      AS $$
        SELECT encode(
                 set_bit(set_bit(
                   overlay(uuid_send(gen_random_uuid())
                           PLACING substring(int8send(floor(extract(epoch FROM at) * 1000)::bigint) FROM 3)
                           FROM 1 FOR 6),
                   52, 1), 53, 1),
                 'hex')::uuid
      $$`);
    for (const table of TABLES) {
      await queryRunner.query(`ALTER TABLE ${table} ALTER COLUMN id SET DEFAULT magic_hour_uuid_v7()`);
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of TABLES) {
      await queryRunner.query(`ALTER TABLE ${table} ALTER COLUMN id SET DEFAULT gen_random_uuid()`);
    }
    await queryRunner.query(`DROP FUNCTION magic_hour_uuid_v7(timestamptz)`);
  }
}
