import { afterAll, afterEach, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import request from 'supertest';
import { eventBody, projectId } from './support/events.js';
import { signedHeaders } from './support/signing.js';
import { eventually, startApp, TEST_API_KEY, TEST_SECRET, type TestApp } from './support/app.js';

const now = () => Math.floor(Date.now() / 1000);
/** Signed with the right secret, but past the default tolerance of 300 s. */
const staleHeaders = (body: string, ageSeconds = 301) => signedHeaders(body, TEST_SECRET, now() - ageSeconds);

describe('Stale and conflicting redeliveries of POST /webhook', () => {
  let t: TestApp;
  const http = () => request(t.app.getHttpServer());
  const deliver = (body: string, headers: Record<string, string> = signedHeaders(body, TEST_SECRET)) =>
    http().post('/webhook').set(headers).send(body);
  const authed = (method: 'get' | 'post', path: string) => http()[method](path).set('authorization', `Bearer ${TEST_API_KEY}`);
  const rows = <Row = Record<string, unknown>>(sql: string, params: unknown[] = []) => t.db.query<Row[]>(sql, params);
  const eventsOf = (id: string) =>
    rows<{ id: string; status: string; release_status: string | null; stale_signed_at: Date | null; payload: unknown }>(
      `SELECT id, status, release_status, stale_signed_at, payload FROM webhook_events WHERE project_id = $1 ORDER BY received_at`,
      [id],
    );
  const conflictsOf = (eventId: string) =>
    rows(`SELECT payload, deliveries FROM webhook_event_conflicts WHERE event_id = $1 ORDER BY first_received_at`, [eventId]);

  beforeAll(async () => {
    t = await startApp();
  });
  afterAll(async () => {
    await t?.close();
  });
  afterEach(() => {
    jest.restoreAllMocks();
  });

  describe('a delivery signed outside the tolerance', () => {
    it('is answered 401, recorded once as stale (not processed) however often it comes, and listed for operators', async () => {
      const id = projectId();
      const body = eventBody('video.completed', id);
      const signedAt = now() - 400;
      for (let i = 0; i < 3; i++) {
        const answer = await deliver(body, signedHeaders(body, TEST_SECRET, signedAt));
        expect(answer.status).toBe(401);
        expect(answer.body).toEqual({
          statusCode: 401,
          error: 'Unauthorized',
          message: 'Invalid webhook signature: timestamp is outside the allowed tolerance',
        });
      }
      const stored = await eventsOf(id);
      expect(stored).toEqual([
        {
          id: expect.any(String),
          status: 'stale',
          release_status: 'received',
          stale_signed_at: new Date(signedAt * 1000),
          payload: JSON.parse(body).payload,
        },
      ]);

      const listed = await authed('get', `/events?status=stale&jobId=${id}`);
      expect(listed.status).toBe(200);
      expect(listed.body.items).toEqual([
        expect.objectContaining({
          id: stored[0].id,
          status: 'stale',
          staleSignedAt: new Date(signedAt * 1000).toISOString(),
          processedAt: null,
        }),
      ]);
      // Refused, so not part of the job: no job, and nothing processed it.
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect((await authed('get', `/jobs/${id}`)).status).toBe(404);
      expect((await eventsOf(id))[0].status).toBe('stale');
    });

    it('is recorded when signed too far in the future as well', async () => {
      const id = projectId();
      const body = eventBody('image.started', id);
      expect((await deliver(body, signedHeaders(body, TEST_SECRET, now() + 3600))).status).toBe(401);
      expect((await eventsOf(id)).map((row) => row.status)).toEqual(['stale']);
    });

    it('is never recorded when its signature is wrong, stale or not', async () => {
      const id = projectId();
      const body = eventBody('video.completed', id);
      expect((await deliver(body, signedHeaders(body, 'whsec_not_ours', now() - 400))).status).toBe(401);
      expect((await deliver(body, { ...staleHeaders(body), 'magic-hour-event-signature': 'ab'.repeat(32) })).status).toBe(401);
      expect(await eventsOf(id)).toEqual([]);
    });

    it('is replaced by a later fresh delivery of the same event, which is then processed (stale, then fresh)', async () => {
      const id = projectId();
      const body = eventBody('video.completed', id);
      expect((await deliver(body, staleHeaders(body))).status).toBe(401);
      const fresh = await deliver(body);
      expect(fresh.status).toBe(200);
      expect(fresh.body).toEqual({ received: true, duplicate: false });

      const job = await eventually(async () => {
        const res = await authed('get', `/jobs/${id}`);
        return res.status === 200 && res.body.events[0]?.status === 'processed' ? res.body : null;
      });
      expect(job).toMatchObject({ id, status: 'complete' });
      const stored = await eventsOf(id);
      expect(stored).toEqual([expect.objectContaining({ status: 'processed', release_status: null, stale_signed_at: null })]);
      expect(await conflictsOf(stored[0].id)).toEqual([]);
      // The fresh delivery was the one stored; a further copy is an ordinary duplicate.
      expect((await deliver(body)).body).toEqual({ received: true, duplicate: true });
    });

    it('changes nothing when it follows the fresh delivery (fresh, then stale)', async () => {
      const id = projectId();
      const body = eventBody('audio.completed', id);
      expect((await deliver(body)).body).toEqual({ received: true, duplicate: false });
      await eventually(async () => (await eventsOf(id))[0]?.status === 'processed');
      expect((await deliver(body, staleHeaders(body))).status).toBe(401);
      const stored = await eventsOf(id);
      expect(stored).toEqual([expect.objectContaining({ status: 'processed', stale_signed_at: null })]);
      expect(await conflictsOf(stored[0].id)).toEqual([]);
    });

    it('keeps one row when stale and fresh copies arrive all at once, and processes it', async () => {
      const id = projectId();
      const body = eventBody('image.completed', id);
      const answers = await Promise.all(
        Array.from({ length: 16 }, (_, i) => (i % 2 === 0 ? deliver(body, staleHeaders(body)) : deliver(body))),
      );
      const fresh = answers.filter((_, i) => i % 2 === 1);
      expect(answers.filter((_, i) => i % 2 === 0).map((answer) => answer.status)).toEqual(Array(8).fill(401));
      expect(fresh.map((answer) => answer.status)).toEqual(Array(8).fill(200));
      expect(fresh.filter((answer) => answer.body.duplicate === false)).toHaveLength(1);
      await eventually(async () => (await eventsOf(id))[0]?.status === 'processed');
      expect(await eventsOf(id)).toHaveLength(1);
    });

    it('is processed when an operator replays it', async () => {
      const id = projectId();
      const body = eventBody('video.started', id);
      await deliver(body, staleHeaders(body));
      const [stale] = await eventsOf(id);
      const replay = await authed('post', `/events/${stale.id}/replay`);
      expect(replay.status).toBe(202);
      expect(replay.body).toEqual({ id: stale.id, replayed: 'processing' });
      const job = await eventually(async () => {
        const res = await authed('get', `/jobs/${id}`);
        return res.status === 200 && res.body.events[0]?.status === 'processed' ? res.body : null;
      });
      expect(job.status).toBe('rendering');
      // Kept after the replay: the operator can still see that it arrived stale.
      expect((await authed('get', `/events/${stale.id}`)).body).toMatchObject({ status: 'processed', staleSignedAt: expect.any(String) });
      expect((await authed('post', `/events/${stale.id}/replay`)).status).toBe(409);
    });

    it('becomes quarantined when replayed, if the body was not a valid event', async () => {
      const body = `{"stale garbage": ${now()}}`;
      expect((await deliver(body, staleHeaders(body))).status).toBe(401);
      const [stale] = await rows<{ id: string; status: string; release_status: string | null; last_error: string | null }>(
        `SELECT id, status, release_status, last_error FROM webhook_events WHERE payload = $1::jsonb`,
        [body],
      );
      expect(stale).toMatchObject({ status: 'stale', release_status: 'quarantined' });
      const replay = await authed('post', `/events/${stale.id}/replay`);
      expect(replay.body).toEqual({ id: stale.id, replayed: 'quarantined' });
      const [after] = await rows(`SELECT status, last_error FROM webhook_events WHERE id = $1`, [stale.id]);
      expect(after).toEqual({ status: 'quarantined', last_error: stale.last_error });
    });

    it('can be replayed in bulk with status=stale', async () => {
      const id = projectId();
      for (const type of ['audio.started', 'audio.completed'] as const) {
        const body = eventBody(type, id);
        await deliver(body, staleHeaders(body));
      }
      const bulk = await authed('post', `/events/replay?status=stale&jobId=${id}`);
      expect(bulk.status).toBe(202);
      expect(bulk.body).toEqual({ matched: 2, replayed: 2, errors: [] });
      await eventually(async () => (await eventsOf(id)).every((row) => row.status === 'processed'));
      expect((await authed('get', `/jobs/${id}`)).body.status).toBe('complete');
    });
  });

  describe('a redelivery whose body differs from the stored event', () => {
    it('is kept as a conflict, once per distinct body with a count, logged, and shown to operators', async () => {
      const warn = jest.spyOn(Logger.prototype, 'warn');
      const id = projectId();
      const original = eventBody('video.completed', id);
      const changed = eventBody('video.completed', id, { name: 'renamed project' });
      expect((await deliver(original)).body).toEqual({ received: true, duplicate: false });

      // Same body with its keys reordered and spaced out: the same JSON, so not a conflict.
      const reordered = JSON.stringify(Object.fromEntries(Object.entries(JSON.parse(original)).reverse()), null, 2);
      expect((await deliver(reordered)).body).toEqual({ received: true, duplicate: true });
      for (let i = 0; i < 3; i++) expect((await deliver(changed)).body).toEqual({ received: true, duplicate: true });

      const [event] = await eventsOf(id);
      expect(event.payload).toEqual(JSON.parse(original).payload);
      expect(await conflictsOf(event.id)).toEqual([{ payload: JSON.parse(changed).payload, deliveries: 3 }]);
      const logged = warn.mock.calls.map((call) => String(call[0]));
      expect(logged).toContain(`Redelivery of video.completed:${id} differs from stored event ${event.id}; kept as a conflict`);
      expect(logged).toContain(
        `Redelivery of video.completed:${id} differs from stored event ${event.id}; kept as a conflict (this body 3 times)`,
      );

      const detail = await authed('get', `/events/${event.id}`);
      expect(detail.body).toMatchObject({ conflictCount: 1 });
      expect(detail.body.conflicts).toEqual([
        { payload: JSON.parse(changed).payload, deliveries: 3, firstReceivedAt: expect.any(String), lastReceivedAt: expect.any(String) },
      ]);
      const listed = await authed('get', `/events?jobId=${id}`);
      expect(listed.body.items).toEqual([expect.objectContaining({ id: event.id, conflictCount: 1 })]);
      expect(listed.body.items[0].conflicts).toBeUndefined();
    });

    it('keeps each different body apart, including ones that arrive in the same instant', async () => {
      const id = projectId();
      await deliver(eventBody('image.completed', id));
      const bodies = ['a', 'b', 'a', 'b', 'c'].map((name) => eventBody('image.completed', id, { name }));
      const answers = await Promise.all(bodies.map((body) => deliver(body)));
      expect(answers.map((answer) => answer.body)).toEqual(Array(5).fill({ received: true, duplicate: true }));
      const [event] = await eventsOf(id);
      const kept = await conflictsOf(event.id);
      expect(kept.map((conflict) => [(conflict.payload as { name: string }).name, conflict.deliveries]).sort()).toEqual([
        ['a', 2],
        ['b', 2],
        ['c', 1],
      ]);
    });

    it('keeps the stale body as a conflict when a different fresh body replaces it', async () => {
      const id = projectId();
      const stale = eventBody('audio.completed', id, { name: 'first try' });
      const fresh = eventBody('audio.completed', id, { name: 'final' });
      expect((await deliver(stale, staleHeaders(stale))).status).toBe(401);
      expect((await deliver(fresh)).body).toEqual({ received: true, duplicate: false });
      await eventually(async () => (await eventsOf(id))[0]?.status === 'processed');
      const [event] = await eventsOf(id);
      expect(event.payload).toEqual(JSON.parse(fresh).payload);
      expect(await conflictsOf(event.id)).toEqual([{ payload: JSON.parse(stale).payload, deliveries: 1 }]);
    });

    it('records a stale redelivery with a different body as a conflict too, without replacing anything', async () => {
      const id = projectId();
      const fresh = eventBody('video.started', id);
      const changed = eventBody('video.started', id, { name: 'changed later' });
      await deliver(fresh);
      expect((await deliver(changed, staleHeaders(changed))).status).toBe(401);
      const [event] = await eventsOf(id);
      expect(event.payload).toEqual(JSON.parse(fresh).payload);
      expect(await conflictsOf(event.id)).toEqual([{ payload: JSON.parse(changed).payload, deliveries: 1 }]);
    });
  });
});

describe('Replaying a stale event in the API role (no worker, no relay)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp({ APP_ROLE: 'api' });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('marks the event queued once Redis took it, so that a relay does not queue it a second time', async () => {
    const id = projectId();
    const body = eventBody('image.completed', id);
    const http = () => request(t.app.getHttpServer());
    expect((await http().post('/webhook').set(staleHeaders(body)).send(body)).status).toBe(401);
    const [event] = await t.db.query<Array<{ id: string }>>(`SELECT id FROM webhook_events WHERE project_id = $1 AND status = 'stale'`, [
      id,
    ]);
    const replay = await http().post(`/events/${event.id}/replay`).set('authorization', `Bearer ${TEST_API_KEY}`);
    expect(replay.body).toEqual({ id: event.id, replayed: 'processing' });
    const [row] = await t.db.query<Array<{ status: string; enqueued_at: Date | null }>>(
      `SELECT status, enqueued_at FROM webhook_events WHERE id = $1`,
      [event.id],
    );
    expect(row.status).toBe('received');
    expect(row.enqueued_at).not.toBeNull();
  });
});
