import { Injectable } from '@nestjs/common';
import { Gauge } from 'prom-client';
import { HandlerRunQueue } from '../queue/handler-run.queue.js';
import type { QueueJobCounts } from '../queue/webhook-event.queue.js';
import { WebhookEventQueue } from '../queue/webhook-event.queue.js';
import { HANDLER_QUEUE, WEBHOOK_QUEUE } from '../queue/queue.constants.js';
import { MetricsService } from './metrics.service.js';

const STATES = ['waiting', 'active', 'failed', 'delayed'] as const satisfies ReadonlyArray<keyof QueueJobCounts>;

type Sample = Array<{ queue: string; counts: QueueJobCounts | null }>;

/**
 * The Bull queues' job counts, read from Redis at each scrape. Each queue's read is bounded by the
 * enqueue timeout (about a second), so a scrape never hangs on Redis: a queue that did not answer
 * shows `magic_hour_queue_up 0` and no counts, while the other metrics are served as usual.
 */
@Injectable()
export class QueueMetrics {
  private readonly queues: ReadonlyArray<{ name: string; read: () => Promise<QueueJobCounts> }>;
  private sampling: Promise<Sample> | null = null;

  constructor(metrics: MetricsService, events: WebhookEventQueue, handlers: HandlerRunQueue) {
    this.queues = [
      { name: WEBHOOK_QUEUE, read: () => events.jobCounts() },
      { name: HANDLER_QUEUE, read: () => handlers.jobCounts() },
    ];
    // Both gauges are collected at once on each scrape; they share one read of Redis.
    const sample = () => (this.sampling ??= this.read().finally(() => (this.sampling = null)));
    new Gauge({
      name: 'magic_hour_queue_jobs',
      help: 'Jobs in each Bull queue by state (waiting, active, failed, delayed), read from Redis at scrape time',
      labelNames: ['queue', 'state'] as const,
      registers: [metrics.registry],
      async collect() {
        const result = await sample();
        this.reset();
        for (const { queue, counts } of result) {
          if (counts) for (const state of STATES) this.set({ queue, state }, counts[state]);
        }
      },
    });
    new Gauge({
      name: 'magic_hour_queue_up',
      help: 'Whether the queue answered this scrape (1) or Redis was away or slow (0)',
      labelNames: ['queue'] as const,
      registers: [metrics.registry],
      async collect() {
        for (const { queue, counts } of await sample()) this.set({ queue }, counts ? 1 : 0);
      },
    });
  }

  private read(): Promise<Sample> {
    return Promise.all(this.queues.map(async ({ name, read }) => ({ queue: name, counts: await read().catch(() => null) })));
  }
}
