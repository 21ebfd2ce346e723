import { Injectable } from '@nestjs/common';
import type { VideoPayloadDto } from '../../magic-hour/dto/project-payload.dto.js';
import { MediaEventService, type MediaDetails, type StoredPayload } from './media-event.service.js';

/** Reads `video.*` events: a video's size, frame rate and span go into the job's details. */
@Injectable()
export class VideoEventService extends MediaEventService<VideoPayloadDto> {
  readonly media = 'video' as const;

  protected details(payload: StoredPayload<VideoPayloadDto>): MediaDetails {
    return {
      width: payload.width,
      height: payload.height,
      fps: payload.fps,
      startSeconds: payload.start_seconds,
      endSeconds: payload.end_seconds,
    };
  }
}
