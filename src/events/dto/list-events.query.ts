import { ApiProperty, ApiPropertyOptional, IntersectionType } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { PRINTABLE_ASCII } from '../../common/keyset-cursor.js';
import { PageQuery } from '../../common/page.query.js';
import { EVENT_STATUSES, type EventStatus } from '../../magic-hour/magic-hour-event.types.js';

/** `GET /events` and `POST /events/replay` filters. */
export class EventFilterQuery {
  @ApiPropertyOptional({ enum: EVENT_STATUSES, enumName: 'EventStatus' })
  @IsOptional()
  @IsIn(EVENT_STATUSES)
  status?: EventStatus;

  /** An event type, such as `video.completed`. */
  @ApiPropertyOptional({ maxLength: 100, example: 'video.completed' })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  @Matches(PRINTABLE_ASCII, { message: 'type must be printable ASCII without spaces' })
  type?: string;

  /** The job (Magic Hour project) id. */
  @ApiPropertyOptional({ maxLength: 200, description: 'The job (Magic Hour project) id' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  @Matches(PRINTABLE_ASCII, { message: 'jobId must be printable ASCII without spaces' })
  jobId?: string;
}

/** `GET /events` query: the filters, page size and cursor. */
export class ListEventsQuery extends IntersectionType(EventFilterQuery, PageQuery) {}

/** `POST /events/:id/replay` query. */
export class ReplayQuery {
  /** Run only this handler (`ClassName.method`), whatever its last run did. */
  @ApiPropertyOptional({ maxLength: 200, description: 'Run only this handler (ClassName.method), whatever its last run did' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  @Matches(PRINTABLE_ASCII, { message: 'handler must be printable ASCII without spaces' })
  handler?: string;
}

/** An event id in a path. */
export class EventIdParams {
  @ApiProperty({ format: 'uuid', description: "The event's id" })
  @Matches(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, { message: 'id must be an event id (a UUID)' })
  id!: string;
}
