import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { getQueueToken } from '@nestjs/bull';
import Bull, { type Queue } from 'bull';
import { WebhookEventRelay } from '../src/processing/webhook-event.relay.js';
import { waitingJobsOf } from '../src/queue/webhook-event.queue.js';
import { HANDLER_QUEUE, WEBHOOK_QUEUE } from '../src/queue/queue.constants.js';
import { projectId } from './support/events.js';
import { REDIS_URL, startApp, uniqueName, type TestApp } from './support/app.js';
import { removeKeysUnder } from './support/redis-keys.js';

/** Ids of the events the jobs of `queue` not yet started carry (event jobs or handler jobs). */
async function queuedEventIds(queue: Queue): Promise<string[]> {
  const jobs = await queue.getJobs(['waiting', 'paused', 'delayed']);
  return jobs.flatMap((job) => (job.data.events ? job.data.events.map((e: { eventId: string }) => e.eventId) : [job.data.eventId]));
}

describe("The relay's late re-queue (real Postgres and Redis)", () => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  /** A worker whose queues are paused, so that what is queued stays queued; and its relay. */
  async function pausedWorker() {
    t = await startApp({ APP_ROLE: 'worker' });
    const events = t.app.get<Queue>(getQueueToken(WEBHOOK_QUEUE));
    const handlers = t.app.get<Queue>(getQueueToken(HANDLER_QUEUE));
    // Paused in Redis (the queue's own prefix), not locally: a local pause makes Bull drop and reopen
    // the blocking connection, and on a busy machine a command caught in that failed the test with
    // "Connection is closed". New jobs go to the paused list, which the relay counts as waiting.
    await Promise.all([events.pause(), handlers.pause()]);
    const relay = t.app.get(WebhookEventRelay);
    /**
     * A whole relay pass that began after this call. (`tick` returns the pass under way, if any,
     * which the relay's own timer may have begun before the caller's last change.)
     */
    const pass = async () => {
      await relay.tick();
      await relay.tick();
    };
    // The first pass after connecting sweeps everything unprocessed into the queue; let it pass first.
    await pass();
    return { events, handlers, pass, db: t.db };
  }

  /** Stores a waiting event that was queued `minutes` ago, with one pending handler run queued as long ago. */
  async function storeQueuedLongAgo(db: TestApp['db'], minutes: number): Promise<string> {
    const id = projectId();
    const [{ id: eventId }] = await db.query<Array<{ id: string }>>(
      `INSERT INTO webhook_events (event_key, type, media, project_id, status, payload, received_at, enqueued_at)
       VALUES ('video.completed:' || $1, 'video.completed', 'video', $1, 'received', jsonb_build_object('id', $1),
               now() - make_interval(mins => $2 + 1), now() - make_interval(mins => $2))
       RETURNING id`,
      [id, minutes],
    );
    await db.query(
      `INSERT INTO event_handler_runs (event_id, handler, status, updated_at, enqueued_at)
       VALUES ($1, 'TestHandler', 'pending', now() - make_interval(mins => $2), now() - make_interval(mins => $2))`,
      [eventId, minutes],
    );
    return eventId;
  }

  const enqueuedAt = async (db: TestApp['db'], eventId: string) => {
    const [event] = await db.query<Array<{ enqueued_at: Date }>>(`SELECT enqueued_at FROM webhook_events WHERE id = $1`, [eventId]);
    const [run] = await db.query<Array<{ enqueued_at: Date }>>(`SELECT enqueued_at FROM event_handler_runs WHERE event_id = $1`, [eventId]);
    return { event: event.enqueued_at.getTime(), run: run.enqueued_at.getTime() };
  };

  it('queues again what was queued long ago and still waits, once the queue has nothing waiting', async () => {
    const { events, handlers, pass, db } = await pausedWorker();
    const eventId = await storeQueuedLongAgo(db, 5);
    const before = await enqueuedAt(db, eventId);

    await pass();

    expect(await queuedEventIds(events)).toEqual([eventId]);
    expect(await queuedEventIds(handlers)).toEqual([eventId]);
    const after = await enqueuedAt(db, eventId);
    expect(after.event).toBeGreaterThan(before.event + 4 * 60_000);
    expect(after.run).toBeGreaterThan(before.run + 4 * 60_000);
  });

  it('leaves it alone while the queue has jobs waiting: it is most likely behind them', async () => {
    const { events, handlers, pass, db } = await pausedWorker();
    // A backlog: jobs the (paused) workers have not taken yet.
    await events.add({ events: [] }, { jobId: 'backlog' });
    await handlers.add({ eventId: 'backlog' }, { jobId: 'handlers-backlog' });
    const eventId = await storeQueuedLongAgo(db, 5);
    const before = await enqueuedAt(db, eventId);

    await pass();
    await pass();

    // Nothing queued again, nothing marked: no duplicate job for the workers to skip later.
    expect(await queuedEventIds(events)).toEqual([]);
    expect(await queuedEventIds(handlers)).toEqual(['backlog']);
    expect(await enqueuedAt(db, eventId)).toEqual(before);

    // Once the backlog is gone, the next pass queues it again.
    await (await events.getJob('backlog'))!.remove();
    await (await handlers.getJob('handlers-backlog'))!.remove();
    await pass();
    expect(await queuedEventIds(events)).toEqual([eventId]);
    expect(await queuedEventIds(handlers)).toEqual([eventId]);
  });

  it('queues it again all the same once it was queued 15 minutes ago, so that a lost job is never left for good', async () => {
    const { events, handlers, pass, db } = await pausedWorker();
    await events.add({ events: [] }, { jobId: 'backlog' });
    await handlers.add({ eventId: 'backlog' }, { jobId: 'handlers-backlog' });
    const recent = await storeQueuedLongAgo(db, 5);
    const old = await storeQueuedLongAgo(db, 16);

    await pass();

    expect((await queuedEventIds(events)).sort()).toEqual([old]);
    expect((await queuedEventIds(handlers)).sort()).toEqual(['backlog', old].sort());
    // The one queued 5 minutes ago still waits for the backlog to clear.
    expect(
      (
        await db.query(`SELECT count(*)::int AS n FROM webhook_events WHERE id = $1 AND enqueued_at < now() - interval '4 minutes'`, [
          recent,
        ])
      )[0].n,
    ).toBe(1);
  });

  it('does not wait for retries in their backoff: a delayed job is not a backlog', async () => {
    const { events, pass, db } = await pausedWorker();
    await events.add({ events: [] }, { jobId: 'retrying', delay: 60_000 });
    const eventId = await storeQueuedLongAgo(db, 5);

    await pass();

    expect((await queuedEventIds(events)).sort()).toEqual([eventId]);
  });
});

describe('What the relay counts as waiting (real Redis)', () => {
  const prefix = uniqueName('mhq');
  let queue: Queue;
  beforeAll(async () => {
    queue = new Bull('counted', REDIS_URL, { prefix });
    queue.on('error', () => undefined);
    await queue.isReady();
  });
  afterAll(async () => {
    await queue?.close();
    await removeKeysUnder(REDIS_URL, [prefix]);
  });

  it('counts jobs waiting for a worker and jobs held by a pause, not delayed ones (a retry in its backoff is one)', async () => {
    expect(await waitingJobsOf(queue, true)).toBe(0);
    await queue.add({ n: 1 });
    await queue.add({ n: 2 }, { delay: 60_000 });
    expect(await waitingJobsOf(queue, true)).toBe(1);
    await queue.pause();
    await queue.add({ n: 3 });
    expect(await queue.getJobCountByTypes(['paused'])).toBe(2);
    expect(await waitingJobsOf(queue, true)).toBe(2);
  });
});
