import { Injectable } from '@nestjs/common';
import { JobRepository } from '../../jobs/job.repository.js';
import type { ImagePayloadDto } from '../dto/project-payload.dto.js';
import { MediaEventService, type MediaDetails, type StoredPayload } from './media-event.service.js';

/** Applies `image.*` events (some image modes send no `image.started`): the image count goes into details. */
@Injectable()
export class ImageEventService extends MediaEventService<ImagePayloadDto> {
  readonly media = 'image' as const;

  constructor(jobs: JobRepository) {
    super(jobs);
  }

  protected details(payload: StoredPayload<ImagePayloadDto>): MediaDetails {
    return { imageCount: payload.image_count };
  }
}
