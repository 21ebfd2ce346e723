import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { getQueueToken } from '@nestjs/bull';
import type { Queue } from 'bull';
import request from 'supertest';
import { PROCESS_ATTEMPTS, PROCESS_BACKOFF_MS, WEBHOOK_QUEUE, type WebhookJobData } from '../src/queue/queue.constants.js';
import { eventBody, projectId } from './support/events.js';
import { signedHeaders } from './support/signing.js';
import { eventually, startApp, TEST_SECRET, type TestApp } from './support/app.js';

describe('Processing through the queue (real Redis and Postgres)', () => {
  let t: TestApp;
  let queue: Queue<WebhookJobData>;

  beforeAll(async () => {
    t = await startApp();
    queue = t.app.get(getQueueToken(WEBHOOK_QUEUE));
  });
  afterAll(async () => {
    await t?.close();
  });

  /** Stores an event row directly, bypassing intake, so a test can hand the worker what intake never would. */
  async function storeEvent(type: string, payload: { id: string } & Record<string, unknown>): Promise<string> {
    const [row] = await t.db.query<Array<{ id: string }>>(
      `INSERT INTO webhook_events (event_key, type, media, project_id, status, payload)
       VALUES ($1, $2, $3, $4, 'received', $5::jsonb) RETURNING id`,
      [`${type}:${payload.id}`, type, type.split('.')[0], payload.id, JSON.stringify(payload)],
    );
    return row.id;
  }

  it('queues intake events with the named attempts and exponential backoff', async () => {
    const id = projectId();
    const body = eventBody('video.started', id);
    await request(t.app.getHttpServer()).post('/webhook').set(signedHeaders(body, TEST_SECRET)).send(body);
    const [{ id: eventId }] = await t.db.query(`SELECT id FROM webhook_events WHERE project_id = $1`, [id]);
    const job = (await eventually(() => queue.getJob(eventId)))!;
    expect(job.data).toEqual({ events: [{ eventId, media: 'video' }] });
    expect(job.opts).toMatchObject({
      jobId: eventId,
      attempts: PROCESS_ATTEMPTS,
      backoff: { type: 'exponential', delay: PROCESS_BACKOFF_MS },
    });
  });

  it('rethrows a failure so Bull retries it, and marks the event failed after the last attempt', async () => {
    const id = projectId();
    // Not a number: the jobs.credits_charged column (a bigint) refuses it, so every attempt fails in Postgres.
    const eventId = await storeEvent('video.completed', { id, credits_charged: 'many' });
    await queue.add({ events: [{ eventId, media: 'video' }] }, { jobId: eventId, attempts: 3, backoff: { type: 'fixed', delay: 100 } });

    const [row] = await eventually(async () => {
      const rows = await t.db.query(`SELECT status, attempts, last_error FROM webhook_events WHERE id = $1`, [eventId]);
      return rows[0]?.status === 'failed' ? rows : null;
    });
    expect(row.attempts).toBe(3);
    expect(row.last_error).toMatch(/bigint/);
    const job = await queue.getJob(eventId);
    expect(job?.attemptsMade).toBe(3);
    expect(await job?.getState()).toBe('failed');
    expect(await t.db.query(`SELECT 1 FROM jobs WHERE id = $1`, [id])).toEqual([]);
  });

  it('applies an event once even when its queue job runs again', async () => {
    const id = projectId();
    const eventId = await storeEvent('image.completed', { id, credits_charged: 5 });
    await queue.add({ events: [{ eventId, media: 'image' }] }, { jobId: eventId });
    await eventually(
      async () => (await t.db.query(`SELECT status FROM webhook_events WHERE id = $1`, [eventId]))[0].status === 'processed',
    );
    const [before] = await t.db.query(`SELECT updated_at FROM jobs WHERE id = $1`, [id]);

    // A second job for the same event, as a stalled job or a relay re-queue would make.
    const again = await queue.add({ events: [{ eventId, media: 'image' }] }, { jobId: `${eventId}-again` });
    expect(await again.finished()).toEqual({ applied: 0, skipped: 1 });
    const [after] = await t.db.query(`SELECT updated_at FROM jobs WHERE id = $1`, [id]);
    expect(after.updated_at).toEqual(before.updated_at);
    expect(await t.db.query(`SELECT attempts FROM webhook_events WHERE id = $1`, [eventId])).toEqual([{ attempts: 1 }]);
  });

  it('never applies again an event that was applied and then failed in a handler', async () => {
    const id = projectId();
    const eventId = await storeEvent('video.completed', { id, credits_charged: 3 });
    await t.db.query(`UPDATE webhook_events SET status = 'failed', processed_at = now(), last_error = 'H: dead' WHERE id = $1`, [eventId]);
    const job = await queue.add({ events: [{ eventId, media: 'video' }] }, { jobId: `${eventId}-rerun` });
    expect(await job.finished()).toEqual({ applied: 0, skipped: 1 });
    const [row] = await t.db.query(`SELECT status, last_error FROM webhook_events WHERE id = $1`, [eventId]);
    expect(row).toEqual({ status: 'failed', last_error: 'H: dead' });
    expect(await t.db.query(`SELECT 1 FROM jobs WHERE id = $1`, [id])).toEqual([]);
  });

  it('skips a queued event that is not stored, without retrying', async () => {
    const missing = '00000000-0000-4000-8000-000000000000';
    const job = await queue.add({ events: [{ eventId: missing, media: 'audio' }] }, { jobId: missing, attempts: 3 });
    expect(await job.finished()).toEqual({ applied: 0, skipped: 1 });
    expect((await queue.getJob(missing))?.attemptsMade).toBe(0);
  });

  it('fails an event no attempt can apply at once, without retrying its job', async () => {
    const id = projectId();
    // A type outside the nine: intake would store it `ignored`, so only a direct row can queue it.
    const eventId = await storeEvent('video.paused', { id });
    const job = await queue.add({ events: [{ eventId, media: 'video' }] }, { jobId: `${eventId}-unknown`, attempts: 3 });

    await expect(job.finished()).rejects.toThrow(/1 of 1 event\(s\) failed; first: .*video\.paused/);
    const failed = await queue.getJob(job.id);
    expect(failed?.attemptsMade).toBe(1);
    expect(await failed?.getState()).toBe('failed');
    const [row] = await t.db.query(`SELECT status, attempts, last_error FROM webhook_events WHERE id = $1`, [eventId]);
    expect(row).toMatchObject({ status: 'failed', attempts: 1, last_error: expect.stringContaining('cannot be applied') });
    expect(await t.db.query(`SELECT 1 FROM jobs WHERE id = $1`, [id])).toEqual([]);
  });

  it('still retries a job whose batch mixes an unappliable event with one that may succeed later', async () => {
    const unknown = await storeEvent('image.paused', { id: projectId() });
    const flaky = await storeEvent('image.completed', { id: projectId(), credits_charged: 'many' });
    const job = await queue.add(
      {
        events: [
          { eventId: unknown, media: 'image' },
          { eventId: flaky, media: 'image' },
        ],
      },
      { jobId: `${unknown}-mixed`, attempts: 2, backoff: { type: 'fixed', delay: 100 } },
    );
    await eventually(async () => (await job.getState()) === 'failed' || null);
    expect((await queue.getJob(job.id))?.attemptsMade).toBe(2);
    const rows = await t.db.query(`SELECT id, status, attempts FROM webhook_events WHERE id = ANY($1::uuid[])`, [[unknown, flaky]]);
    const byId = new Map(rows.map((row: { id: string }) => [row.id, row]));
    // Failed for good on the first attempt, the unappliable event is tried again with its batch (and fails again).
    expect(byId.get(unknown)).toMatchObject({ status: 'failed', attempts: 2 });
    expect(byId.get(flaky)).toMatchObject({ status: 'failed', attempts: 2 });
  });

  it('applies a batch in one go, isolates a bad event, and retries only that one', async () => {
    const good = [projectId(), projectId(), projectId()];
    const bad = projectId();
    const ids = [
      await storeEvent('video.started', { id: good[0] }),
      await storeEvent('video.completed', { id: good[0], credits_charged: 7 }),
      await storeEvent('image.completed', { id: good[1] }),
      await storeEvent('audio.errored', { id: good[2], error: { code: 'x', message: 'y' } }),
      await storeEvent('video.completed', { id: bad, credits_charged: 'many' }),
    ];
    const media = ['video', 'video', 'image', 'audio', 'video'] as const;
    const job = await queue.add(
      { events: ids.map((eventId, i) => ({ eventId, media: media[i] })) },
      { jobId: 'batch-test', attempts: 2, backoff: { type: 'fixed', delay: 100 } },
    );
    await eventually(async () => (await job.getState()) === 'failed' || null);
    const statuses = await t.db.query(`SELECT id, status, attempts FROM webhook_events WHERE id = ANY($1::uuid[])`, [ids]);
    const byId = new Map(statuses.map((row: { id: string }) => [row.id, row]));
    for (const id of ids.slice(0, 4)) expect(byId.get(id)).toMatchObject({ status: 'processed', attempts: 1 });
    expect(byId.get(ids[4])).toMatchObject({ status: 'failed', attempts: 2 });
    const jobs = await t.db.query(`SELECT id, status, credits_charged::int FROM jobs WHERE id = ANY($1::text[]) ORDER BY id`, [
      [...good, bad],
    ]);
    expect(jobs).toEqual(
      [
        { id: good[0], status: 'complete', credits_charged: 7 },
        { id: good[1], status: 'complete', credits_charged: null },
        { id: good[2], status: 'error', credits_charged: null },
      ].sort((a, b) => a.id.localeCompare(b.id)),
    );
  });
});
