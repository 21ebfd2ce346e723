import { Process, Processor } from '@nestjs/bull';
import type { Job } from 'bull';
import { DataSource } from 'typeorm';
import { WEBHOOK_QUEUE } from './conventional.config.js';
import { JobEntity } from './job.entity.js';
import { WebhookEventEntity } from './webhook-event.entity.js';
import type { WebhookJobData } from './webhook.service.js';

const STATUS_BY_ACTION: Record<string, string> = { started: 'rendering', completed: 'complete', errored: 'error' };

/** Applies each queued event to its job row and marks the event processed. */
@Processor(WEBHOOK_QUEUE)
export class WebhookProcessor {
  constructor(private readonly dataSource: DataSource) {}

  @Process()
  async process(job: Job<WebhookJobData>): Promise<void> {
    const { eventId, type, payload } = job.data;
    const [media, action] = type.split('.');
    await this.dataSource.transaction(async (manager) => {
      await manager.upsert(
        JobEntity,
        {
          id: payload.id,
          media,
          projectType: payload.type,
          name: payload.name,
          status: STATUS_BY_ACTION[action],
          downloads: payload.downloads,
          error: payload.error,
          creditsCharged: payload.credits_charged ?? null,
          createdAt: new Date(payload.created_at),
        },
        ['id'],
      );
      await manager.update(WebhookEventEntity, eventId, { status: 'processed', processedAt: new Date() });
    });
  }
}
