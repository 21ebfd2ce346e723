import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { getQueueToken } from '@nestjs/bull';
import { Injectable } from '@nestjs/common';
import type { Queue } from 'bull';
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { OnMagicHourEvent } from '../src/handlers/index.js';
import { HANDLER_QUEUE, WEBHOOK_QUEUE } from '../src/queue/queue.constants.js';
import { eventually, freePort, startApp, TEST_SECRET, type TestApp } from './support/app.js';
import { eventBody, projectId } from './support/events.js';
import { parseMetrics, sampleValue, type Sample } from './support/metrics.js';
import { signedHeaders } from './support/signing.js';

const METRICS_TOKEN = 'metrics-token-for-the-tests';

/** Fails every time, so that its failures and its dead letter are counted. */
@Injectable()
class RefusingHandler {
  @OnMagicHourEvent('audio.completed')
  async onAudio(): Promise<void> {
    throw new Error('downstream refused');
  }
}

const OUTCOMES = ['stored', 'duplicate', 'quarantined', 'ignored', 'rejected', 'stale', 'error', 'aborted'];

describe('Prometheus metrics at /metrics (real Postgres and Redis)', () => {
  let t: TestApp;
  const http = () => request(t.app.getHttpServer());
  const deliver = (body: string, headers: Record<string, string> = signedHeaders(body, TEST_SECRET)) =>
    http().post('/webhook').set(headers).send(body);
  const scrape = async (app: TestApp = t): Promise<Sample[]> => {
    const response = await request(app.app.getHttpServer()).get('/metrics').set('authorization', `Bearer ${METRICS_TOKEN}`).timeout(10_000);
    expect(response.status).toBe(200);
    return parseMetrics(response.text);
  };

  beforeAll(async () => {
    t = await startApp({ HANDLER_ATTEMPTS: '2', HANDLER_BACKOFF_MS: '50', METRICS_TOKEN }, undefined, { handlers: [RefusingHandler] });

    // Known traffic: 3 stored, 2 duplicates (one with a conflicting body), 1 quarantined, 1 ignored,
    // 2 rejected, 1 stale (authentic, signed an hour ago).
    const [video, image, audio] = [projectId(), projectId(), projectId()];
    const answers = [
      await deliver(eventBody('video.completed', video)),
      await deliver(eventBody('image.started', image)),
      await deliver(eventBody('audio.completed', audio, { downloads: [] })),
      await deliver(eventBody('video.completed', video)),
      await deliver(JSON.stringify({ type: 'video.completed', payload: { id: projectId(), width: 'wide' } })),
      await deliver(JSON.stringify({ type: 'video.canceled', payload: { id: projectId() } })),
      await deliver(eventBody('video.started', projectId()), signedHeaders(eventBody('video.started', 'x'), 'whsec_wrong')),
      await deliver(eventBody('video.errored', video), {
        ...signedHeaders(eventBody('video.errored', video), TEST_SECRET),
        'content-encoding': 'gzip',
      }),
      await deliver(
        eventBody('audio.started', audio),
        signedHeaders(eventBody('audio.started', audio), TEST_SECRET, Math.floor(Date.now() / 1000) - 3600),
      ),
      await deliver(eventBody('video.completed', video, { downloads: [] })),
    ];
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 200, 200, 200, 401, 415, 401, 200]);
    expect(answers[9].body).toEqual({ received: true, duplicate: true });
    expect(answers.slice(3, 6).map((answer) => answer.body)).toEqual([
      { received: true, duplicate: true },
      { received: true, duplicate: false, quarantined: true },
      { received: true, duplicate: false, ignored: true },
    ]);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('asks for METRICS_TOKEN when it is set', async () => {
    expect((await http().get('/metrics')).status).toBe(401);
    expect((await http().get('/metrics').set('authorization', 'Bearer not-the-metrics-token')).status).toBe(401);
    const response = await http().get('/metrics').set('authorization', `Bearer ${METRICS_TOKEN}`);
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
  });

  it('counts every delivery by type and outcome, exactly', async () => {
    const samples = await scrape();
    const counted = samples
      .filter((sample) => sample.name === 'magic_hour_webhook_events_total' && sample.value !== 0)
      .map((sample) => `${sample.labels.type} ${sample.labels.outcome} ${sample.value}`)
      .sort();
    expect(counted).toEqual(
      [
        'audio.completed stored 1',
        'image.started stored 1',
        'video.completed stored 1',
        'video.completed duplicate 2',
        'video.completed quarantined 1',
        'other ignored 1',
        'unknown rejected 2',
        'audio.started stale 1',
      ].sort(),
    );
    // Every type and outcome starts at zero, so that rates work from the first delivery.
    const series = samples.filter((sample) => sample.name === 'magic_hour_webhook_events_total');
    expect(series).toHaveLength(11 * OUTCOMES.length);
    expect(sampleValue(samples, 'magic_hour_webhook_events_total', { type: 'audio.errored', outcome: 'error' })).toBe(0);
  });

  it('counts a redelivery whose body differs from the stored event as a conflict', async () => {
    expect(sampleValue(await scrape(), 'magic_hour_webhook_conflicts_total', {})).toBe(1);
  });

  it('times each delivery, by outcome', async () => {
    const samples = await scrape();
    const count = (outcome: string) => sampleValue(samples, 'magic_hour_webhook_intake_duration_seconds_count', { outcome });
    expect(OUTCOMES.map(count)).toEqual([3, 2, 1, 1, 2, 1, 0, 0]);
    expect(sampleValue(samples, 'magic_hour_webhook_intake_duration_seconds_bucket', { outcome: 'stored', le: '+Inf' })).toBe(3);
    expect(sampleValue(samples, 'magic_hour_webhook_intake_duration_seconds_sum', { outcome: 'stored' })).toBeGreaterThan(0);
  });

  it('times each event from its arrival to its being applied, by media', async () => {
    const samples = (await eventually(async () => {
      const current = await scrape();
      return sampleValue(current, 'magic_hour_event_processing_latency_seconds_count', { media: 'audio' }) === 1 ? current : null;
    }))!;
    for (const media of ['video', 'image', 'audio']) {
      expect(sampleValue(samples, 'magic_hour_event_processing_latency_seconds_count', { media })).toBe(1);
      expect(sampleValue(samples, 'magic_hour_event_processing_latency_seconds_bucket', { media, le: '+Inf' })).toBe(1);
    }
    expect(sampleValue(samples, 'magic_hour_event_processing_failures_total', { media: 'video' })).toBe(0);
  });

  it('counts each failed handler run and the dead letter', async () => {
    const labels = { handler: 'RefusingHandler.onAudio' };
    const samples = (await eventually(async () => {
      const current = await scrape();
      return sampleValue(current, 'magic_hour_handler_dead_letters_total', labels) === 1 ? current : null;
    }))!;
    expect(sampleValue(samples, 'magic_hour_handler_failures_total', labels)).toBe(2);
  });

  it("reports both queues' job counts, read from Redis at scrape time", async () => {
    // Once the refusing handler's retries are over, a job that waits a minute is the only delayed one.
    const handlers = t.app.get<Queue>(getQueueToken(HANDLER_QUEUE));
    await eventually(async () => {
      const counts = await handlers.getJobCounts();
      return counts.delayed + counts.active + counts.waiting === 0;
    });
    const delayed = await handlers.add({ eventId: randomUUID() }, { delay: 60_000 });
    try {
      const samples = await scrape();
      for (const queue of [WEBHOOK_QUEUE, HANDLER_QUEUE]) {
        expect(sampleValue(samples, 'magic_hour_queue_up', { queue })).toBe(1);
        for (const state of ['waiting', 'active', 'failed', 'delayed']) {
          expect(sampleValue(samples, 'magic_hour_queue_jobs', { queue, state })).toEqual(expect.any(Number));
        }
      }
      expect(sampleValue(samples, 'magic_hour_queue_jobs', { queue: HANDLER_QUEUE, state: 'delayed' })).toBe(1);
      expect(sampleValue(samples, 'magic_hour_queue_jobs', { queue: WEBHOOK_QUEUE, state: 'delayed' })).toBe(0);
    } finally {
      await delayed.remove();
    }
    expect(sampleValue(await scrape(), 'magic_hour_queue_jobs', { queue: HANDLER_QUEUE, state: 'delayed' })).toBe(0);
  });

  it("includes Node's process metrics", async () => {
    const names = new Set((await scrape()).map((sample) => sample.name));
    expect(names).toContain('process_cpu_user_seconds_total');
    expect(names).toContain('nodejs_heap_size_used_bytes');
  });

  it('is served by a worker too, with counters of its own, and answers while Redis is down', async () => {
    const deadRedis = await freePort();
    const worker = await startApp({ APP_ROLE: 'worker', REDIS_URL: `redis://127.0.0.1:${deadRedis}`, METRICS_TOKEN }, undefined, {
      handlers: [RefusingHandler],
    });
    try {
      expect((await request(worker.app.getHttpServer()).get('/jobs')).status).toBe(404);
      const samples = await scrape(worker);
      for (const queue of [WEBHOOK_QUEUE, HANDLER_QUEUE]) {
        expect(sampleValue(samples, 'magic_hour_queue_up', { queue })).toBe(0);
      }
      expect(samples.filter((sample) => sample.name === 'magic_hour_queue_jobs')).toEqual([]);
      // Its own registry: none of the first app's deliveries are counted here.
      expect(samples.filter((sample) => sample.name === 'magic_hour_webhook_events_total' && sample.value !== 0)).toEqual([]);
      expect(samples.some((sample) => sample.name === 'process_cpu_user_seconds_total')).toBe(true);
      // And the first app's counts did not move.
      expect(sampleValue(await scrape(), 'magic_hour_webhook_events_total', { type: 'unknown', outcome: 'rejected' })).toBe(2);
    } finally {
      await worker.close();
    }
  });
});
