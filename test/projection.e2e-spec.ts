import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../src/database/data-source.options.js';
import { dropDatabase, ensureDatabase } from '../src/database/database.bootstrap.js';
import { JobProjection1764310000000 } from '../src/database/migrations/1764310000000-job-projection.js';
import { eventBody, projectId } from './support/events.js';
import { signedHeaders } from './support/signing.js';
import { eventually, POSTGRES_URL, startApp, TEST_API_KEY, TEST_SECRET, uniqueName, type TestApp } from './support/app.js';

// Bodies built from Magic Hour's API schema (GET /v1/{media}-projects/{id}): it caps no string and no
// integer, and says a video's width or height of -1 "can be ignored".
describe('Every real delivery is kept and projected right (POST /webhook, GET /jobs/:id)', () => {
  let t: TestApp;
  const http = () => request(t.app.getHttpServer());
  const job = async (id: string) => {
    const answer = await http().get(`/jobs/${id}`).set('authorization', `Bearer ${TEST_API_KEY}`);
    expect(answer.status).toBe(200);
    return answer.body as Record<string, unknown> & { details: Record<string, unknown>; events: Array<Record<string, unknown>> };
  };

  /** Delivers a signed body; returns the answer's body. */
  const deliver = async (body: string) => {
    const answer = await http().post('/webhook').set(signedHeaders(body, TEST_SECRET)).send(body);
    expect(answer.status).toBe(200);
    return answer.body as Record<string, unknown>;
  };

  /** Delivers an event, expects it stored to be processed, and waits until its job shows it applied. */
  const apply = async (body: string) => {
    expect(await deliver(body)).toEqual({ received: true, duplicate: false });
    const { type, payload } = JSON.parse(body) as { type: string; payload: { id: string } };
    await eventually(async () =>
      (await job(payload.id).catch(() => null))?.events.some((e) => e.type === type && e.status === 'processed'),
    );
  };

  /** Waits until the event of this key has a settled status, and returns its row. */
  const settled = async (eventKey: string) =>
    (await eventually(async () => {
      const [row] = await t.db.query<Array<{ id: string; status: string; attempts: number; last_error: string | null }>>(
        `SELECT id, status, attempts, last_error FROM webhook_events WHERE event_key = $1`,
        [eventKey],
      );
      return row && row.status !== 'received' ? row : null;
    }))!;

  beforeAll(async () => {
    t = await startApp();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('stores a project name of any length instead of quarantining the event', async () => {
    const id = projectId();
    const name = `a long name ${'ü'.repeat(5_000)} end`;
    await apply(eventBody('video.completed', id, { name }));
    expect(await job(id)).toMatchObject({ status: 'complete', name });
  });

  it('stores credits_charged past a 32-bit integer as bigint and answers it as a JSON number', async () => {
    const large = [2 ** 31, 4_000_000_000_000_000, 999_999_999_999_999];
    for (const credits of large) {
      const id = projectId();
      await apply(eventBody('audio.completed', id, { credits_charged: credits }));
      const body = await job(id);
      expect(body.creditsCharged).toBe(credits);
      expect(typeof body.creditsCharged).toBe('number');
      const [row] = await t.db.query<Array<{ credits: string; type: string }>>(
        `SELECT credits_charged::text AS credits, pg_typeof(credits_charged)::text AS type FROM jobs WHERE id = $1`,
        [id],
      );
      expect(row).toEqual({ credits: BigInt(credits).toString(), type: 'bigint' });
    }
    const listed = await http().get('/jobs?media=audio&limit=100').set('authorization', `Bearer ${TEST_API_KEY}`);
    const items = (listed.body as { items: Array<{ creditsCharged: unknown }> }).items;
    expect(items.map((item) => item.creditsCharged)).toEqual(expect.arrayContaining(large));
  });

  it('keeps an integer no bigint holds in the event, and processes the event without it', async () => {
    const id = projectId();
    await apply(eventBody('video.completed', id, { credits_charged: 1e19 }));
    expect(await job(id)).toMatchObject({ status: 'complete', creditsCharged: null });
    const [row] = await t.db.query<Array<{ credits: unknown }>>(
      `SELECT payload -> 'credits_charged' AS credits FROM webhook_events WHERE project_id = $1`,
      [id],
    );
    expect(row.credits).toBe(1e19);
  });

  it('stores a width or height of -1 ("can be ignored") as unknown, and a later event fills them', async () => {
    const id = projectId();
    await apply(eventBody('video.started', id, { width: -1, height: -1 }));
    const started = await job(id);
    expect(started.details).toEqual({ fps: 30, startSeconds: 0, endSeconds: 5 });
    expect(started.details).not.toHaveProperty('width');

    await apply(eventBody('video.completed', id, { width: 1920, height: 1080 }));
    expect((await job(id)).details).toEqual({ width: 1920, height: 1080, fps: 30, startSeconds: 0, endSeconds: 5 });
  });

  it('fills every field the job lacks from a late started, without moving the status back', async () => {
    const id = projectId();
    // A sparse completed, as Magic Hour's examples are: no created_at, name, type, size or span.
    const sparse = { created_at: undefined, name: undefined, type: undefined, width: undefined, height: undefined, fps: undefined };
    await apply(eventBody('video.completed', id, { ...sparse, start_seconds: undefined, end_seconds: undefined }));
    const before = await job(id);
    expect(before).toMatchObject({ status: 'complete', name: null, projectType: null, details: {}, startedAt: null });

    await apply(eventBody('video.started', id, { credits_charged: 60 }));
    const after = await job(id);
    expect(after).toMatchObject({
      status: 'complete',
      name: 'video test project',
      projectType: 'TEXT_TO_VIDEO',
      createdAt: '2026-11-27T10:00:00.000Z',
      creditsCharged: 120,
      downloads: before.downloads,
      completedAt: before.completedAt,
      startedAt: expect.any(String),
      details: { width: 1280, height: 720, fps: 30, startSeconds: 0, endSeconds: 5 },
    });
    expect(after.events.map((event) => [event.type, event.status])).toEqual([
      ['video.completed', 'processed'],
      ['video.started', 'processed'],
    ]);
  });

  it('fills the credits a late event knows when the first terminal event had none', async () => {
    const id = projectId();
    await apply(eventBody('image.errored', id, { credits_charged: undefined, image_count: undefined }));
    expect(await job(id)).toMatchObject({ status: 'error', creditsCharged: null, details: {} });
    await apply(eventBody('image.started', id, { credits_charged: 5, image_count: 4 }));
    expect(await job(id)).toMatchObject({ status: 'error', creditsCharged: 5, details: { imageCount: 4 } });
  });

  it('never folds an image event into the video job of the same id: the clash is kept, failed, and visible', async () => {
    const id = projectId();
    await apply(eventBody('video.started', id));
    const video = await job(id);

    expect(await deliver(eventBody('image.completed', id))).toEqual({ received: true, duplicate: false });
    const clash = await settled(`image.completed:${id}`);
    expect(clash).toMatchObject({ status: 'failed', attempts: 1 });
    expect(clash.last_error).toContain(`is already a job for video`);

    const after = await job(id);
    expect(after).toMatchObject({
      media: 'video',
      status: 'rendering',
      projectType: video.projectType,
      downloads: [],
      creditsCharged: video.creditsCharged,
      details: video.details,
      completedAt: null,
    });
    expect(after.events.map((event) => [event.type, event.status])).toEqual([
      ['video.started', 'processed'],
      ['image.completed', 'failed'],
    ]);
    const listed = await http().get(`/events?status=failed&jobId=${id}`).set('authorization', `Bearer ${TEST_API_KEY}`);
    expect((listed.body as { items: unknown[] }).items).toEqual([
      expect.objectContaining({ type: 'image.completed', lastError: clash.last_error }),
    ]);

    // The video's own events still apply.
    await apply(eventBody('video.completed', id));
    expect(await job(id)).toMatchObject({ media: 'video', status: 'complete' });
  });

  it('keeps the first media of an id when the other media arrives in the same batch', async () => {
    const id = projectId();
    await Promise.all([deliver(eventBody('audio.started', id)), deliver(eventBody('image.started', id))]);
    const [audio, image] = [await settled(`audio.started:${id}`), await settled(`image.started:${id}`)];
    const body = await job(id);
    const [winner, loser] = body.media === 'audio' ? [audio, image] : [image, audio];
    expect(winner.status).toBe('processed');
    expect(loser).toMatchObject({ status: 'failed', last_error: expect.stringContaining(`is already a job for ${String(body.media)}`) });
    expect(body.projectType).toBe(body.media === 'audio' ? 'VOICE_GENERATOR' : 'AI_IMAGE');
  });

  it('stores the other fields the schema does not cap, instead of quarantining their events', async () => {
    const id = projectId();
    const error = { code: `E_${'x'.repeat(300)}`, message: `failed: ${'why '.repeat(5_000)}` };
    const status = `a_status_magic_hour_may_add_${'z'.repeat(60)}`;
    const type = `A_FUTURE_PROJECT_TYPE_${'T'.repeat(200)}`;
    await apply(eventBody('video.errored', id, { error, status, type, credits_charged: -40 }));
    expect(await job(id)).toMatchObject({ status: 'error', error, projectType: type, creditsCharged: -40 });

    const other = projectId();
    const url = `https://videos.magichour.ai/id/${other}/output.mp4?token=${'t'.repeat(6_000)}`;
    await apply(eventBody('image.completed', other, { image_count: 2 ** 31, downloads: [{ url, expires_at: null }] }));
    expect(await job(other)).toMatchObject({ status: 'complete', details: { imageCount: 2 ** 31 }, downloads: [{ url, expiresAt: null }] });
  });
});

describe(JobProjection1764310000000.name, () => {
  it('makes credits a bigint and keeps the created_at of jobs stored before it; undone, it gives integers back', async () => {
    const url = `${POSTGRES_URL}/${uniqueName('mh_test_migration')}`;
    await ensureDatabase(url);
    const options = dataSourceOptions(url);
    const earlier = (options.migrations as unknown[]).filter((migration) => migration !== JobProjection1764310000000);
    const column = async (db: DataSource) =>
      (
        await db.query<Array<{ type: string }>>(
          `SELECT data_type AS type FROM information_schema.columns WHERE table_name = 'jobs' AND column_name = 'credits_charged'`,
        )
      )[0].type;
    try {
      const before = new DataSource({ ...options, migrations: earlier as typeof options.migrations, extra: { max: 1 } });
      await before.initialize();
      await before.runMigrations();
      expect(await column(before)).toBe('integer');
      await before.query(
        `INSERT INTO jobs (id, media, status, created_at, updated_at, credits_charged) VALUES ('cold', 'video', 'complete', now(), now(), 7)`,
      );
      await before.destroy();

      const after = new DataSource({ ...options, extra: { max: 1 } });
      await after.initialize();
      try {
        expect((await after.runMigrations()).map((migration) => migration.name)).toEqual([JobProjection1764310000000.name]);
        expect(await column(after)).toBe('bigint');
        await after.query(
          `INSERT INTO jobs (id, media, status, created_at, updated_at, credits_charged) VALUES ('cnew', 'video', 'complete', now(), now(), $1)`,
          [2 ** 40],
        );
        expect(await after.query(`SELECT id, credits_charged::text AS credits, created_at_reported FROM jobs ORDER BY id`)).toEqual([
          { id: 'cnew', credits: String(2 ** 40), created_at_reported: false },
          { id: 'cold', credits: '7', created_at_reported: true },
        ]);
        await after.query(`DELETE FROM jobs WHERE id = 'cnew'`);
        await after.undoLastMigration();
        expect(await column(after)).toBe('integer');
        expect(await after.query(`SELECT id, credits_charged FROM jobs`)).toEqual([{ id: 'cold', credits_charged: 7 }]);
      } finally {
        await after.destroy();
      }
    } finally {
      await dropDatabase(url);
    }
  });
});
