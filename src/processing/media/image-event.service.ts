import { Injectable } from '@nestjs/common';
import type { ImagePayloadDto } from '../../magic-hour/dto/project-payload.dto.js';
import { MediaEventService, type MediaDetails, type StoredPayload } from './media-event.service.js';

/** Reads `image.*` events (some image modes send no `image.started`): the image count goes into details. */
@Injectable()
export class ImageEventService extends MediaEventService<ImagePayloadDto> {
  readonly media = 'image' as const;

  protected details(payload: StoredPayload<ImagePayloadDto>): MediaDetails {
    return { imageCount: payload.image_count };
  }
}
