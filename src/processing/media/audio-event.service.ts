import { Injectable } from '@nestjs/common';
import type { AudioPayloadDto } from '../../magic-hour/dto/project-payload.dto.js';
import { MediaEventService, type MediaDetails, type StoredPayload } from './media-event.service.js';

/** Reads `audio.*` events; an audio project has no fields beyond the common ones yet. */
@Injectable()
export class AudioEventService extends MediaEventService<AudioPayloadDto> {
  readonly media = 'audio' as const;

  protected details(_payload: StoredPayload<AudioPayloadDto>): MediaDetails {
    return {};
  }
}
