import { afterEach, describe, expect, it } from '@jest/globals';
import { Injectable } from '@nestjs/common';
import { getQueueToken } from '@nestjs/bull';
import type { Queue } from 'bull';
import request from 'supertest';
import { OnMagicHourEvent, type MagicHourEvent } from '../src/handlers/index.js';
import { WEBHOOK_QUEUE } from '../src/queue/queue.constants.js';
import { WebhookEventQueue } from '../src/queue/webhook-event.queue.js';
import { WebhookEventRepository } from '../src/webhook/webhook-event.repository.js';
import { eventBody, projectId } from './support/events.js';
import { signedHeaders } from './support/signing.js';
import { eventually, startApp, TEST_SECRET, type TestApp } from './support/app.js';
import { removeKeysUnder } from './support/redis-keys.js';

/** How often the handler ran for each project. */
const runs = new Map<string, number>();

@Injectable()
class CountingHandler {
  @OnMagicHourEvent('*')
  record(event: MagicHourEvent): void {
    runs.set(event.projectId, (runs.get(event.projectId) ?? 0) + 1);
  }
}

/** Within this of being stored, an event whose hand-over never happened or was lost must be processed. */
const PICKED_UP_WITHIN_MS = 10_000;

describe('Events whose hand-over to Redis was never confirmed or was lost (real Postgres and Redis)', () => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  const start = async () => {
    t = await startApp({}, undefined, { handlers: [CountingHandler] });
    return { t, events: t.app.get<Queue>(getQueueToken(WEBHOOK_QUEUE)) };
  };

  /** Each project's event: its status and how many times it was applied. */
  const outcome = async (app: TestApp, ids: readonly string[]) =>
    app.db.query<Array<{ project_id: string; status: string; attempts: number }>>(
      `SELECT project_id, status, attempts FROM webhook_events WHERE project_id = ANY($1::text[]) ORDER BY project_id`,
      [ids],
    );
  const allProcessed = (app: TestApp, ids: readonly string[]) => async () =>
    (await outcome(app, ids)).filter((row) => row.status === 'processed').length === ids.length;

  /** Applied once, its handler run once, and still so after a few more relay passes. */
  const expectOnce = async (app: TestApp, ids: readonly string[]) => {
    await new Promise((resolve) => setTimeout(resolve, 5000));
    expect(await outcome(app, ids)).toEqual([...ids].sort().map((id) => ({ project_id: id, status: 'processed', attempts: 1 })));
    for (const id of ids) expect(runs.get(id)).toBe(1);
  };

  it('processes within seconds, once, what a process stopped between its commit and its hand-over left', async () => {
    const { t, events } = await start();
    const repository = t.app.get(WebhookEventRepository);
    // Held in Redis for now, so that two hand-overs of one event are both in the queue at once.
    await events.pause();
    const row = (id: string) => {
      const body = JSON.parse(eventBody('video.completed', id)) as { payload: unknown };
      return {
        eventKey: `video.completed:${id}`,
        type: 'video.completed',
        media: 'video' as const,
        projectId: id,
        status: 'received' as const,
        payloadJson: JSON.stringify(body.payload),
        lastError: null,
      };
    };
    const [never, unmarked] = [projectId(), projectId()];
    const stored = Date.now();
    // Intake's own insert, then nothing: the process died before its hand-over...
    await repository.insertMany([row(never)]);
    // ... or after Redis took the event but before Postgres heard so.
    const [[, unmarkedId]] = await repository.insertMany([row(unmarked)]);
    expect(await t.app.get(WebhookEventQueue).enqueue([{ eventId: unmarkedId, media: 'video' }])).toBe(true);

    // The relay hands both over (the second a second time) and marks them.
    await eventually(
      async () => (await t.db.query(`SELECT count(*)::int AS n FROM webhook_events WHERE enqueued_at IS NOT NULL`))[0].n === 2,
      PICKED_UP_WITHIN_MS,
      100,
    );
    await events.resume();
    await eventually(allProcessed(t, [never, unmarked]), PICKED_UP_WITHIN_MS, 100);
    expect(Date.now() - stored).toBeLessThan(PICKED_UP_WITHIN_MS);
    await expectOnce(t, [never, unmarked]);
  });

  it("processes within seconds, once, events whose jobs Redis lost without a reconnect (the queue's keys deleted)", async () => {
    const { t, events } = await start();
    await events.pause();
    const ids = Array.from({ length: 5 }, () => projectId());
    for (const id of ids) {
      const body = eventBody('image.completed', id);
      expect((await request(t.app.getHttpServer()).post('/webhook').set(signedHeaders(body, TEST_SECRET)).send(body)).status).toBe(200);
    }
    // Redis holds them, and their marks say so.
    const held = async () =>
      (await events.getJobs(['paused'])).flatMap((job) => (job.data as { events: Array<{ eventId: string }> }).events).length;
    await eventually(
      async () =>
        (await held()) === ids.length &&
        (await t.db.query(`SELECT count(*)::int AS n FROM webhook_events WHERE enqueued_at IS NOT NULL`))[0].n === ids.length,
    );

    // Every key of the queue goes (its jobs and its pause), the connections stay up: no reconnect to see.
    const lost = Date.now();
    await removeKeysUnder(t.config.redisUrl, [t.config.queuePrefix]);
    await eventually(allProcessed(t, ids), PICKED_UP_WITHIN_MS, 100);
    expect(Date.now() - lost).toBeLessThan(PICKED_UP_WITHIN_MS);
    await expectOnce(t, ids);
  });
});
