import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The inbox of webhook events and the jobs they describe. */
export class InitialSchema1764230000000 implements MigrationInterface {
  name = 'InitialSchema1764230000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE webhook_events (
        id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        event_key     text NOT NULL,
        type          text NOT NULL,
        media         text NOT NULL CHECK (media IN ('video', 'image', 'audio', 'unknown')),
        project_id    text,
        status        text NOT NULL CHECK (status IN ('received', 'processed', 'failed', 'ignored', 'quarantined')),
        payload       jsonb NOT NULL,
        attempts      integer NOT NULL DEFAULT 0,
        last_error    text,
        received_at   timestamptz(3) NOT NULL DEFAULT now(),
        enqueued_at   timestamptz(3),
        processed_at  timestamptz(3),
        CONSTRAINT webhook_events_event_key_unique UNIQUE (event_key)
      )`);
    await queryRunner.query(`CREATE INDEX webhook_events_project_idx ON webhook_events (project_id, received_at)`);
    await queryRunner.query(`CREATE INDEX webhook_events_status_idx ON webhook_events (status, received_at, id)`);
    await queryRunner.query(`
      CREATE TABLE jobs (
        id              text PRIMARY KEY,
        media           text NOT NULL CHECK (media IN ('video', 'image', 'audio')),
        project_type    text,
        name            text,
        status          text NOT NULL CHECK (status IN ('rendering', 'complete', 'error')),
        downloads       jsonb NOT NULL DEFAULT '[]',
        error           jsonb,
        credits_charged integer,
        details         jsonb NOT NULL DEFAULT '{}',
        created_at      timestamptz(3) NOT NULL,
        started_at      timestamptz(3),
        completed_at    timestamptz(3),
        errored_at      timestamptz(3),
        updated_at      timestamptz(3) NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`CREATE INDEX jobs_created_idx ON jobs (created_at DESC, id DESC)`);
    await queryRunner.query(`CREATE INDEX jobs_status_created_idx ON jobs (status, created_at DESC, id DESC)`);
    await queryRunner.query(`CREATE INDEX jobs_media_created_idx ON jobs (media, created_at DESC, id DESC)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE jobs`);
    await queryRunner.query(`DROP TABLE webhook_events`);
  }
}
