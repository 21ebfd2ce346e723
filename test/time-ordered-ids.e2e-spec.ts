import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { setTimeout as sleep } from 'node:timers/promises';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../src/database/data-source.options.js';
import { dropDatabase, prepareDatabase } from '../src/database/database.bootstrap.js';
import { TimeOrderedIds1764330000000 } from '../src/database/migrations/1764330000000-time-ordered-ids.js';
import { WebhookEventRepository, type NewWebhookEvent } from '../src/webhook/webhook-event.repository.js';
import { POSTGRES_URL, uniqueName } from './support/app.js';

/** The Unix milliseconds in the first 48 bits of a version 7 UUID. */
const millisOf = (id: string): number => parseInt(id.replace(/-/g, '').slice(0, 12), 16);
const VERSION_7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const VERSION_4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

const event = (key: string): NewWebhookEvent => ({
  eventKey: key,
  type: 'video.completed',
  media: 'video',
  projectId: key,
  status: 'received',
  payloadJson: '{}',
  lastError: null,
});

// Random ids put each insert on a random leaf of the primary key: on a large table, a page read and a
// page dirtied per event. Time-ordered ids keep inserts at the index's right edge.
describe('Time-ordered ids (real Postgres)', () => {
  const url = `${POSTGRES_URL}/${uniqueName('mh_test')}`;
  let db: DataSource;

  beforeAll(async () => {
    await prepareDatabase(url);
    db = new DataSource({ ...dataSourceOptions(url), extra: { max: 2 } });
    await db.initialize();
  });
  afterAll(async () => {
    await db?.destroy();
    await dropDatabase(url);
  });

  it("gives intake's events version 7 ids that grow with arrival, carrying the time they were stored", async () => {
    const repository = new WebhookEventRepository(db);
    const batches: string[][] = [];
    for (let batch = 0; batch < 20; batch++) {
      const before = Date.now();
      const ids = await repository.insertMany(Array.from({ length: 50 }, (_, i) => event(`b${batch}-${i}`)));
      const after = Date.now();
      expect(ids.size).toBe(50);
      for (const id of ids.values()) {
        expect(id).toMatch(VERSION_7);
        expect(millisOf(id)).toBeGreaterThanOrEqual(before - 5); // Postgres's clock against this process's
        expect(millisOf(id)).toBeLessThanOrEqual(after + 5);
      }
      batches.push([...ids.values()].sort());
      await sleep(3);
    }
    // Every id of a later batch sorts after every id of an earlier one: each batch lands at the end.
    for (let i = 1; i < batches.length; i++) expect(batches[i][0] > batches[i - 1].at(-1)!).toBe(true);
  });

  it('is the id default of every table whose ids Postgres generates', async () => {
    const defaults = await db.query<Array<{ table_name: string; column_default: string }>>(
      `SELECT table_name, column_default FROM information_schema.columns
        WHERE table_schema = current_schema() AND column_name = 'id' AND data_type = 'uuid' ORDER BY table_name`,
    );
    expect(defaults).toEqual(
      ['event_handler_runs', 'stored_files', 'webhook_event_conflicts', 'webhook_events'].map((table) => ({
        table_name: table,
        column_default: 'magic_hour_uuid_v7()',
      })),
    );
  });

  it('encodes a given time, so that loaded history gets the ids it would have had', async () => {
    const at = new Date('2026-01-02T03:04:05.678Z');
    const [{ id, next }] = await db.query<Array<{ id: string; next: string }>>(
      `SELECT magic_hour_uuid_v7($1) AS id, magic_hour_uuid_v7($1::timestamptz + interval '1 millisecond') AS next`,
      [at],
    );
    expect(id).toMatch(VERSION_7);
    expect(millisOf(id)).toBe(at.getTime());
    expect(millisOf(next)).toBe(at.getTime() + 1);
    expect(next > id).toBe(true);
  });

  it('goes back to random ids when the migration is reverted', async () => {
    const reverting = db.createQueryRunner();
    try {
      await new TimeOrderedIds1764330000000().down(reverting);
      const [{ id }] = await db.query<Array<{ id: string }>>(
        `INSERT INTO webhook_events (event_key, type, media, project_id, status, payload)
         VALUES ('after-revert', 'video.completed', 'video', 'after-revert', 'received', '{}') RETURNING id`,
      );
      expect(id).toMatch(VERSION_4);
      const [{ present }] = await db.query<Array<{ present: boolean }>>(
        `SELECT to_regprocedure('magic_hour_uuid_v7(timestamptz)') IS NOT NULL AS present`,
      );
      expect(present).toBe(false);
    } finally {
      await reverting.release();
    }
  });
});
