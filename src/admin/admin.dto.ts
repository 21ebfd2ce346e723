import { Transform } from 'class-transformer';
import { IsIn, IsOptional, IsString, MaxLength } from 'class-validator';
import { REPLAY_OUTCOMES, type ReplayOutcome } from '../events/dto/event.response.js';
import { EVENT_STATUSES, JOB_STATUSES, MEDIA, type EventStatus, type JobStatus, type Media } from '../webhook/magic-hour-event.types.js';

/** An HTML filter form sends an unset field as an empty string; it means "no filter". */
const emptyAsUnset = ({ value }: { value: unknown }) => (value === '' ? undefined : value);

/** `GET /admin` query: the jobs page's filters and cursor. */
export class AdminJobsQuery {
  @Transform(emptyAsUnset)
  @IsOptional()
  @IsIn(JOB_STATUSES)
  status?: JobStatus;

  @Transform(emptyAsUnset)
  @IsOptional()
  @IsIn(MEDIA)
  media?: Media;

  @Transform(emptyAsUnset)
  @IsOptional()
  @IsString()
  @MaxLength(500)
  cursor?: string;
}

/** `GET /admin/events` query: the events page's filters and cursor. */
export class AdminEventsQuery {
  @Transform(emptyAsUnset)
  @IsOptional()
  @IsIn(EVENT_STATUSES)
  status?: EventStatus;

  @Transform(emptyAsUnset)
  @IsOptional()
  @IsString()
  @MaxLength(100)
  type?: string;

  @Transform(emptyAsUnset)
  @IsOptional()
  @IsString()
  @MaxLength(200)
  jobId?: string;

  @Transform(emptyAsUnset)
  @IsOptional()
  @IsString()
  @MaxLength(500)
  cursor?: string;
}

/** `GET /admin/events/:id` query. */
export class AdminEventQuery {
  /** What a replay did, as the replay's redirect tells the page: any outcome `EventsService.replay` returns. */
  @IsOptional()
  @IsIn(REPLAY_OUTCOMES)
  replayed?: ReplayOutcome;
}

/** The login form. */
export class AdminLoginForm {
  @IsString()
  @MaxLength(1000)
  key!: string;

  /** Where to go after logging in: a console path (anything else is ignored). */
  @IsOptional()
  @IsString()
  @MaxLength(2000)
  next?: string;
}

/** `GET /admin/login` query. */
export class AdminLoginQuery {
  @IsOptional()
  @IsString()
  @MaxLength(2000)
  next?: string;
}

/** A form that changes something: it carries the session's CSRF token. */
export class AdminCsrfForm {
  @IsString()
  @MaxLength(200)
  csrf!: string;
}
