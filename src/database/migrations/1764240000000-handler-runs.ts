import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Per-handler runs of each event, and the files the download handler stored. */
export class HandlerRuns1764240000000 implements MigrationInterface {
  name = 'HandlerRuns1764240000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE event_handler_runs (
        id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        event_id     uuid NOT NULL REFERENCES webhook_events (id) ON DELETE CASCADE,
        handler      text NOT NULL,
        status       text NOT NULL CHECK (status IN ('pending', 'running', 'succeeded', 'failed', 'dead')),
        attempts     integer NOT NULL DEFAULT 0,
        last_error   text,
        duration_ms  integer,
        created_at   timestamptz(3) NOT NULL DEFAULT now(),
        updated_at   timestamptz(3) NOT NULL DEFAULT now(),
        enqueued_at  timestamptz(3),
        -- A worker that claimed the run holds it until then; past it, the run is open again.
        claimed_until timestamptz(3),
        CONSTRAINT event_handler_runs_event_handler_unique UNIQUE (event_id, handler)
      )`);
    await queryRunner.query(
      `CREATE INDEX event_handler_runs_open_idx ON event_handler_runs (updated_at) WHERE status IN ('pending', 'running', 'failed')`,
    );
    await queryRunner.query(`
      CREATE TABLE stored_files (
        id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        job_id     text NOT NULL,
        url        text NOT NULL,
        path       text NOT NULL,
        bytes      bigint NOT NULL,
        sha256     text NOT NULL,
        stored_at  timestamptz(3) NOT NULL DEFAULT now(),
        CONSTRAINT stored_files_job_url_unique UNIQUE (job_id, url)
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE stored_files`);
    await queryRunner.query(`DROP TABLE event_handler_runs`);
  }
}
