import { Expose } from 'class-transformer';
import { IsObject, IsString, Matches, MaxLength } from 'class-validator';

/** Longest event type accepted. */
export const EVENT_TYPE_MAX_LENGTH = 100;

/** The body of every Magic Hour webhook: `{"type": "<media>.<action>", "payload": {...}}`. */
export class WebhookEnvelopeDto {
  /** `<media>.<action>`; a well-formed type we do not know yet is stored as `ignored`. */
  @Expose()
  @IsString()
  @MaxLength(EVENT_TYPE_MAX_LENGTH)
  @Matches(/^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$/, { message: 'type must look like "<media>.<action>"' })
  type!: string;

  /** The project as `GET /v1/{media}-projects/:id` returns it; validated per media. */
  @Expose()
  @IsObject()
  payload!: Record<string, unknown>;
}
