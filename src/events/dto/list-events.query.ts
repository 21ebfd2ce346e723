import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import { PRINTABLE_ASCII } from '../../common/keyset-cursor.js';
import { EVENT_STATUSES, type EventStatus } from '../../webhook/magic-hour-event.types.js';

/** `GET /events` and `POST /events/replay` filters. */
export class EventFilterQuery {
  @IsOptional()
  @IsIn(EVENT_STATUSES)
  status?: EventStatus;

  /** An event type, such as `video.completed`. */
  @IsOptional()
  @IsString()
  @MaxLength(100)
  @Matches(PRINTABLE_ASCII, { message: 'type must be printable ASCII without spaces' })
  type?: string;

  /** The job (Magic Hour project) id. */
  @IsOptional()
  @IsString()
  @MaxLength(200)
  @Matches(PRINTABLE_ASCII, { message: 'jobId must be printable ASCII without spaces' })
  jobId?: string;
}

/** `GET /events` query. */
export class ListEventsQuery extends EventFilterQuery {
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100)
  limit?: number;

  @IsOptional()
  @IsString()
  @MaxLength(500)
  cursor?: string;
}

/** `POST /events/:id/replay` query. */
export class ReplayQuery {
  /** Run only this handler (`ClassName.method`), whatever its last run did. */
  @IsOptional()
  @IsString()
  @MaxLength(200)
  @Matches(PRINTABLE_ASCII, { message: 'handler must be printable ASCII without spaces' })
  handler?: string;
}

/** An event id in a path. */
export class EventIdParams {
  @Matches(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, { message: 'id must be an event id (a UUID)' })
  id!: string;
}
