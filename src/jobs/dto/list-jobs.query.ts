import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
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
  @ApiPropertyOptional({ enum: JOB_STATUSES, enumName: 'JobStatus', description: 'Only jobs with this status' })
  @IsOptional()
  @IsIn(JOB_STATUSES)
  status?: JobStatus;

  @ApiPropertyOptional({ enum: MEDIA, enumName: 'Media', description: 'Only jobs of this media' })
  @IsOptional()
  @IsIn(MEDIA)
  media?: Media;

  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: MAX_PAGE_SIZE, default: DEFAULT_PAGE_SIZE })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_PAGE_SIZE)
  limit?: number;

  /** `nextCursor` of the previous page. */
  @ApiPropertyOptional({ maxLength: 500, description: '`nextCursor` of the previous page' })
  @IsOptional()
  @IsString()
  @MaxLength(500)
  cursor?: string;
}

/** `GET /jobs/:id` path parameters. */
export class JobIdParams {
  /** A Magic Hour project id: printable ASCII, as intake accepts them (and Postgres text can hold). */
  @ApiProperty({ maxLength: 200, description: "The job's id: Magic Hour's project id", example: 'cm3testjob000001' })
  @IsString()
  @MaxLength(200)
  @Matches(PRINTABLE_ASCII, { message: 'id must be printable ASCII without spaces' })
  id!: string;
}
