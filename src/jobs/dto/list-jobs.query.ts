import { ApiProperty, ApiPropertyOptional, IntersectionType } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { PRINTABLE_ASCII } from '../../common/keyset-cursor.js';
import { PageQuery } from '../../common/page.query.js';
import { JOB_STATUSES, MEDIA, type JobStatus, type Media } from '../../magic-hour/magic-hour-event.types.js';

/** `GET /jobs` filters. */
export class JobFilterQuery {
  @ApiPropertyOptional({ enum: JOB_STATUSES, enumName: 'JobStatus', description: 'Only jobs with this status' })
  @IsOptional()
  @IsIn(JOB_STATUSES)
  status?: JobStatus;

  @ApiPropertyOptional({ enum: MEDIA, enumName: 'Media', description: 'Only jobs of this media' })
  @IsOptional()
  @IsIn(MEDIA)
  media?: Media;
}

/** `GET /jobs` query: the filters, page size and the cursor from the previous page. */
export class ListJobsQuery extends IntersectionType(JobFilterQuery, PageQuery) {}

/** `GET /jobs/:id` path parameters. */
export class JobIdParams {
  /** A Magic Hour project id: printable ASCII, as intake accepts them (and Postgres text can hold). */
  @ApiProperty({ maxLength: 200, description: "The job's id: Magic Hour's project id", example: 'cm3testjob000001' })
  @IsString()
  @MaxLength(200)
  @Matches(PRINTABLE_ASCII, { message: 'id must be printable ASCII without spaces' })
  id!: string;
}

/** `POST /jobs`: a project to track before any webhook. */
export class RegisterJobBody extends JobIdParams {
  @ApiProperty({ enum: MEDIA, enumName: 'Media', description: 'Which API knows the project: video, image or audio projects' })
  @IsIn(MEDIA)
  media!: Media;
}
