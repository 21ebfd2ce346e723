import { Injectable } from '@nestjs/common';
import type { VideoPayloadDto } from '../../magic-hour/dto/project-payload.dto.js';
import { MediaEventService, type MediaDetails, type StoredPayload } from './media-event.service.js';

/** What Magic Hour's schema sends as a video's `width` or `height` when it "can be ignored". */
export const IGNORED_DIMENSION = -1;

/** A width or height, or `undefined` for the "can be ignored" value, so that another event may fill it. */
const dimension = (value: number | null | undefined): number | null | undefined => (value === IGNORED_DIMENSION ? undefined : value);

/** Reads `video.*` events: a video's size, frame rate and span go into the job's details. */
@Injectable()
export class VideoEventService extends MediaEventService<VideoPayloadDto> {
  readonly media = 'video' as const;

  protected details(payload: StoredPayload<VideoPayloadDto>): MediaDetails {
    return {
      width: dimension(payload.width),
      height: dimension(payload.height),
      fps: payload.fps,
      startSeconds: payload.start_seconds,
      endSeconds: payload.end_seconds,
    };
  }
}
