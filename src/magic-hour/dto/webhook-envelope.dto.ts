import { ApiProperty } from '@nestjs/swagger';
import { Expose } from 'class-transformer';
import { IsObject, IsString, Matches, MaxLength } from 'class-validator';

/** Longest event type accepted. */
export const EVENT_TYPE_MAX_LENGTH = 100;

/** What an event type must look like: `<media>.<action>`. */
export const EVENT_TYPE_PATTERN = /^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$/;

/** The body of every Magic Hour webhook: `{"type": "<media>.<action>", "payload": {...}}`. */
export class WebhookEnvelopeDto {
  /** `<media>.<action>`; a well-formed type we do not know yet is stored as `ignored`. */
  @ApiProperty({
    maxLength: EVENT_TYPE_MAX_LENGTH,
    pattern: EVENT_TYPE_PATTERN.source,
    description: '<media>.<action>; one of MagicHourEventType, or a well-formed type not known yet (stored as ignored)',
    example: 'video.completed',
  })
  @Expose()
  @IsString()
  @MaxLength(EVENT_TYPE_MAX_LENGTH)
  @Matches(EVENT_TYPE_PATTERN, { message: 'type must look like "<media>.<action>"' })
  type!: string;

  /** The project as `GET /v1/{media}-projects/:id` returns it; validated per media. */
  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description:
      'The project as GET /v1/{media}-projects/:id returns it, validated as VideoPayloadDto, ImagePayloadDto or ' +
      'AudioPayloadDto by the media of type (ProjectPayloadDto for another media); fields may be added at any time',
  })
  @Expose()
  @IsObject()
  payload!: Record<string, unknown>;
}
