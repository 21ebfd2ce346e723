import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Deliveries signed with the right secret but outside the timestamp tolerance are kept as `stale`
 * events (once per key, answered 401 all the same), and a redelivery whose body differs from the
 * stored event is kept in `webhook_event_conflicts` instead of being dropped as a duplicate.
 */
export class StaleEventsAndConflicts1764250000000 implements MigrationInterface {
  name = 'StaleEventsAndConflicts1764250000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE webhook_events
        DROP CONSTRAINT webhook_events_status_check,
        ADD CONSTRAINT webhook_events_status_check
          CHECK (status IN ('received', 'processed', 'failed', 'ignored', 'quarantined', 'stale')),
        -- For a stale event: the status it takes when it is replayed (what intake would have stored).
        ADD COLUMN release_status text CHECK (release_status IN ('received', 'ignored', 'quarantined')),
        -- When the delivery that recorded a stale event was signed; kept after a replay.
        ADD COLUMN stale_signed_at timestamptz(3),
        ADD CONSTRAINT webhook_events_stale_release CHECK (status <> 'stale' OR release_status IS NOT NULL)`);
    await queryRunner.query(`
      CREATE TABLE webhook_event_conflicts (
        id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        event_id         uuid NOT NULL REFERENCES webhook_events (id) ON DELETE CASCADE,
        payload          jsonb NOT NULL,
        -- SHA-256 of the canonical jsonb text: one row per distinct body, however often it comes.
        payload_hash     text NOT NULL,
        deliveries       integer NOT NULL DEFAULT 1,
        first_received_at timestamptz(3) NOT NULL DEFAULT now(),
        last_received_at  timestamptz(3) NOT NULL DEFAULT now(),
        CONSTRAINT webhook_event_conflicts_event_payload_unique UNIQUE (event_id, payload_hash)
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE webhook_event_conflicts`);
    // Fails while stale events exist, rather than deleting them: replay or delete them first.
    await queryRunner.query(`
      ALTER TABLE webhook_events
        DROP CONSTRAINT webhook_events_stale_release,
        DROP COLUMN stale_signed_at,
        DROP COLUMN release_status,
        DROP CONSTRAINT webhook_events_status_check,
        ADD CONSTRAINT webhook_events_status_check
          CHECK (status IN ('received', 'processed', 'failed', 'ignored', 'quarantined'))`);
  }
}
