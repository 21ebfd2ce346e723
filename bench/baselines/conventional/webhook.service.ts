import { InjectQueue } from '@nestjs/bull';
import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Queue } from 'bull';
import { QueryFailedError, Repository } from 'typeorm';
import { WEBHOOK_QUEUE } from './conventional.config.js';
import type { WebhookEventDto } from './webhook-event.dto.js';
import { WebhookEventEntity } from './webhook-event.entity.js';

/** What the processor is given for each stored event. */
export interface WebhookJobData {
  eventId: string;
  type: string;
  payload: WebhookEventDto['payload'];
}

/** Postgres's error code for a unique constraint violation. */
const UNIQUE_VIOLATION = '23505';

/** Stores a webhook event once and queues it for processing. */
@Injectable()
export class WebhookService {
  constructor(
    @InjectRepository(WebhookEventEntity) private readonly events: Repository<WebhookEventEntity>,
    @InjectQueue(WEBHOOK_QUEUE) private readonly queue: Queue<WebhookJobData>,
  ) {}

  async receive(event: WebhookEventDto): Promise<{ received: true; duplicate: boolean }> {
    let eventId: string;
    try {
      const result = await this.events.insert({
        eventKey: `${event.type}:${event.payload.id}`,
        type: event.type,
        projectId: event.payload.id,
        payload: event.payload,
      });
      eventId = result.identifiers[0].id as string;
    } catch (error) {
      if (error instanceof QueryFailedError && (error.driverError as { code?: string }).code === UNIQUE_VIOLATION) {
        return { received: true, duplicate: true };
      }
      throw error;
    }
    await this.queue.add({ eventId, type: event.type, payload: event.payload });
    return { received: true, duplicate: false };
  }
}
