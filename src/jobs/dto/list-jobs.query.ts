import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import { PRINTABLE_ASCII } from '../../common/keyset-cursor.js';
import { JOB_STATUSES, MEDIA, type JobStatus, type Media } from '../../webhook/magic-hour-event.types.js';

/** Most jobs one page holds. */
export const MAX_PAGE_SIZE = 100;
/** Jobs a page holds when `limit` is not given. */
export const DEFAULT_PAGE_SIZE = 20;

/** `GET /jobs` query: filters, page size and the cursor from the previous page. */
export class ListJobsQuery {
  @IsOptional()
  @IsIn(JOB_STATUSES)
  status?: JobStatus;

  @IsOptional()
  @IsIn(MEDIA)
  media?: Media;

  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_PAGE_SIZE)
  limit?: number;

  /** `nextCursor` of the previous page. */
  @IsOptional()
  @IsString()
  @MaxLength(500)
  cursor?: string;
}

/** `GET /jobs/:id` path parameters. */
export class JobIdParams {
  /** A Magic Hour project id: printable ASCII, as intake accepts them (and Postgres text can hold). */
  @IsString()
  @MaxLength(200)
  @Matches(PRINTABLE_ASCII, { message: 'id must be printable ASCII without spaces' })
  id!: string;
}
