import { Type } from 'class-transformer';
import {
  IsArray,
  IsBoolean,
  IsDateString,
  IsIn,
  IsInt,
  IsNotEmpty,
  IsNumber,
  IsObject,
  IsOptional,
  IsString,
  IsUrl,
  ValidateNested,
} from 'class-validator';

/** The nine event types Magic Hour sends. */
export const EVENT_TYPES = [
  'video.started',
  'video.completed',
  'video.errored',
  'image.started',
  'image.completed',
  'image.errored',
  'audio.started',
  'audio.completed',
  'audio.errored',
] as const;

/** A rendered file and when its URL expires. */
export class DownloadDto {
  @IsUrl()
  url!: string;

  @IsDateString()
  expires_at!: string;
}

/** Why a render failed. */
export class ProjectErrorDto {
  @IsString()
  code!: string;

  @IsString()
  message!: string;
}

/** The project as `GET /v1/{media}-projects/:id` gives it. */
export class ProjectPayloadDto {
  @IsString()
  @IsNotEmpty()
  id!: string;

  @IsOptional()
  @IsString()
  name!: string | null;

  @IsIn(['draft', 'queued', 'rendering', 'complete', 'error', 'canceled'])
  status!: string;

  @IsString()
  type!: string;

  @IsDateString()
  created_at!: string;

  @IsOptional()
  @IsBoolean()
  enabled?: boolean;

  @IsOptional()
  @IsInt()
  credits_charged?: number;

  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => DownloadDto)
  downloads!: DownloadDto[];

  @IsOptional()
  @ValidateNested()
  @Type(() => ProjectErrorDto)
  error!: ProjectErrorDto | null;

  @IsOptional()
  @IsInt()
  width?: number;

  @IsOptional()
  @IsInt()
  height?: number;

  @IsOptional()
  @IsNumber()
  fps?: number;

  @IsOptional()
  @IsNumber()
  start_seconds?: number;

  @IsOptional()
  @IsNumber()
  end_seconds?: number;

  @IsOptional()
  @IsInt()
  image_count?: number;
}

/** The body of a webhook: `{type, payload}`. */
export class WebhookEventDto {
  @IsIn(EVENT_TYPES)
  type!: (typeof EVENT_TYPES)[number];

  @IsObject()
  @ValidateNested()
  @Type(() => ProjectPayloadDto)
  payload!: ProjectPayloadDto;
}
