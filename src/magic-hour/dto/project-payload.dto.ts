import { ApiProperty } from '@nestjs/swagger';
import { Expose } from 'class-transformer';
import { IsNotEmpty, IsString, Matches, MaxLength } from 'class-validator';
import {
  OptionalBoolean,
  OptionalInteger,
  OptionalNested,
  OptionalNestedArray,
  OptionalNumber,
  OptionalString,
  OptionalTimestamp,
} from './validation.js';

/**
 * Longest project id accepted; Magic Hour's are 25-character cuids. The one capped string: the id is
 * half of the event key, which a unique index holds (and a btree entry must stay small).
 */
export const PROJECT_ID_MAX_LENGTH = 200;

const HTTP_URL = /^https?:\/\/\S+$/;
const PRINTABLE_ASCII = /^[\x21-\x7e]+$/;

/** One rendered file: `downloads[]` in a payload. */
export class DownloadDto {
  /** Where the file can be fetched until `expires_at`; of any length, as signed URLs can be long. */
  @ApiProperty({ pattern: HTTP_URL.source, description: 'Where the file can be fetched until expires_at' })
  @Expose()
  @IsString()
  @Matches(HTTP_URL, { message: 'url must be an http(s) URL' })
  url!: string;

  @OptionalTimestamp()
  expires_at?: string | null;
}

/** `error` in a payload: why the render failed. */
export class ProjectErrorDto {
  @OptionalString()
  code?: string | null;

  @OptionalString()
  message?: string | null;
}

/**
 * What every Magic Hour project payload has (the shape of `GET /v1/{media}-projects/:id`). Only `id`
 * is required: the published examples leave out most other fields.
 */
export class ProjectPayloadDto {
  /** The project id (a cuid): the job's id and half of the event's idempotency key. */
  @ApiProperty({
    maxLength: PROJECT_ID_MAX_LENGTH,
    pattern: PRINTABLE_ASCII.source,
    description: "The project id (a cuid): the job's id and half of the event's idempotency key",
    example: 'cm3testjob000001',
  })
  @Expose()
  @IsString()
  @IsNotEmpty()
  @MaxLength(PROJECT_ID_MAX_LENGTH)
  @Matches(PRINTABLE_ASCII, { message: 'id must be printable ASCII without spaces' })
  id!: string;

  /** Stored whole, however long: a display field never costs its event. */
  @OptionalString()
  name?: string | null;

  /** Informative only: the event `type`, not this, decides a transition. */
  @OptionalString()
  status?: string | null;

  /** The project type, such as `TEXT_TO_VIDEO` or `AI_IMAGE`. */
  @OptionalString()
  type?: string | null;

  @OptionalTimestamp()
  created_at?: string | null;

  @OptionalBoolean()
  enabled?: boolean | null;

  @OptionalInteger()
  credits_charged?: number | null;

  @OptionalNestedArray(() => DownloadDto)
  downloads?: DownloadDto[] | null;

  @OptionalNested(() => ProjectErrorDto)
  error?: ProjectErrorDto | null;
}

/** A video project payload. */
export class VideoPayloadDto extends ProjectPayloadDto {
  @OptionalNumber()
  width?: number | null;

  @OptionalNumber()
  height?: number | null;

  @OptionalNumber()
  fps?: number | null;

  @OptionalNumber()
  start_seconds?: number | null;

  @OptionalNumber()
  end_seconds?: number | null;
}

/** An image project payload. */
export class ImagePayloadDto extends ProjectPayloadDto {
  @OptionalInteger()
  image_count?: number | null;
}

/** An audio project payload: the common fields only, for now. */
export class AudioPayloadDto extends ProjectPayloadDto {}
