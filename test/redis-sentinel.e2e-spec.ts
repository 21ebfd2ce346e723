import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { eventBody, projectId } from './support/events.js';
import { RedisSentinelGroup } from './support/redis-sentinel.js';
import { signedHeaders } from './support/signing.js';
import { eventually, startApp, TEST_API_KEY, TEST_SECRET, type TestApp } from './support/app.js';

const PROJECTS = 300;
const CONCURRENCY = 4;
/** Each sender's pause between two deliveries: events keep arriving for several seconds, across the switch. */
const PAUSE_MS = 30;

describe('Redis Sentinel: the master fails over while events arrive', () => {
  let group: RedisSentinelGroup;
  let t: TestApp;
  const http = () => request(t.app.getHttpServer());

  beforeAll(async () => {
    group = await RedisSentinelGroup.start();
    t = await startApp({ ...group.env, API_RATE_LIMIT: '100000' });
  }, 60_000);
  afterAll(async () => {
    await t?.close();
    await group?.stop();
  });

  it('loses nothing that was answered 200: every event processed once, every job complete, the rate limit counting on the new master', async () => {
    const ids = Array.from({ length: PROJECTS }, () => projectId());
    const bodies = ids.flatMap((id) => [eventBody('video.started', id), eventBody('video.completed', id)]);
    const answers: Array<{ status: number; at: number }> = [];
    let next = 0;
    const sender = async () => {
      while (next < bodies.length) {
        const body = bodies[next++];
        const { status } = await http().post('/webhook').set(signedHeaders(body, TEST_SECRET)).send(body);
        answers.push({ status, at: Date.now() });
        await new Promise((resolve) => setTimeout(resolve, PAUSE_MS));
      }
    };
    const senders = Array.from({ length: CONCURRENCY }, () => sender());
    await eventually(async () => answers.length >= bodies.length / 5, 30_000, 20);
    const { from, to, switchedAt, demoted } = await group.failover();
    await Promise.all(senders);
    await demoted;

    expect(answers.map((answer) => answer.status)).toEqual(bodies.map(() => 200));
    // Events arrived on both sides of the switch.
    expect(answers.filter((answer) => answer.at > switchedAt).length).toBeGreaterThan(0);
    expect(to).not.toBe(from);

    const count = async () =>
      (
        await t.db.query<Array<{ processed: number; complete: number }>>(
          `SELECT (SELECT count(*)::int FROM webhook_events WHERE status = 'processed') AS processed,
                  (SELECT count(*)::int FROM jobs WHERE status = 'complete' AND started_at IS NOT NULL) AS complete`,
        )
      )[0];
    await eventually(async () => (await count()).processed === bodies.length, 60_000, 250);
    expect(await count()).toEqual({ processed: bodies.length, complete: PROJECTS });
    // Each applied once: a second application would have counted a second attempt.
    const attempts = await t.db.query<Array<{ attempts: number }>>(`SELECT DISTINCT attempts FROM webhook_events`);
    expect(attempts.map((row) => row.attempts)).toEqual([1]);

    // The rate limit counts on the new master too.
    const answer = await http().get(`/jobs/${ids[0]}`).set('authorization', `Bearer ${TEST_API_KEY}`);
    expect(answer.status).toBe(200);
    expect(answer.headers['x-ratelimit-limit']).toBe('100000');
    const keys = await group.cli(to, '--scan', '--pattern', `${t.config.queuePrefix}:rate-limit:*`);
    expect(keys.trim()).not.toBe('');
  }, 90_000);
});
