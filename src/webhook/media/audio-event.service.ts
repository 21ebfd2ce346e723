import { Injectable } from '@nestjs/common';
import { JobRepository } from '../../jobs/job.repository.js';
import type { AudioPayloadDto } from '../dto/project-payload.dto.js';
import { MediaEventService, type MediaDetails, type StoredPayload } from './media-event.service.js';

/** Applies `audio.*` events; an audio project has no fields beyond the common ones yet. */
@Injectable()
export class AudioEventService extends MediaEventService<AudioPayloadDto> {
  readonly media = 'audio' as const;

  constructor(jobs: JobRepository) {
    super(jobs);
  }

  protected details(_payload: StoredPayload<AudioPayloadDto>): MediaDetails {
    return {};
  }
}
