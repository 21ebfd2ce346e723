import { Transform } from 'class-transformer';
import { IsIn, IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { PRINTABLE_ASCII } from '../common/keyset-cursor.js';
import { REPLAY_OUTCOMES, type ReplayOutcome } from '../events/dto/event.response.js';
import { EVENT_STATUSES, JOB_STATUSES, MEDIA, type EventStatus, type JobStatus, type Media } from '../magic-hour/magic-hour-event.types.js';

/** An HTML filter form sends an unset field as an empty string; it means "no filter". */
const emptyAsUnset = ({ value }: { value: unknown }) => (value === '' ? undefined : value);
/** A typed-in filter, without the spaces a paste may bring along; empty means "no filter". */
const trimmedOrUnset = ({ value }: { value: unknown }) => emptyAsUnset({ value: typeof value === 'string' ? value.trim() : value });

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

/**
 * `GET /admin/events` query: the events page's filters and cursor, checked as `GET /events` checks
 * them (a NUL would reach Postgres, which refuses it with an error). The cursor is checked when it
 * is decoded, as the REST API's is.
 */
export class AdminEventsQuery {
  @Transform(emptyAsUnset)
  @IsOptional()
  @IsIn(EVENT_STATUSES)
  status?: EventStatus;

  @Transform(trimmedOrUnset)
  @IsOptional()
  @IsString()
  @MaxLength(100)
  @Matches(PRINTABLE_ASCII, { message: 'type must be printable ASCII without spaces' })
  type?: string;

  @Transform(trimmedOrUnset)
  @IsOptional()
  @IsString()
  @MaxLength(200)
  @Matches(PRINTABLE_ASCII, { message: 'jobId must be printable ASCII without spaces' })
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

/** `GET /admin/jobs/:id` query. */
export class AdminJobQuery {
  /** Set by the Reconcile now button's redirect, for the page to say what was done. */
  @IsOptional()
  @IsIn(['requested'])
  reconcile?: 'requested';
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

/**
 * A form that changes something: it carries the session's CSRF token. Optional here because a request
 * with a Bearer key needs none; `AdminCsrfGuard` requires it of every other.
 */
export class AdminCsrfForm {
  @IsOptional()
  @IsString()
  @MaxLength(200)
  csrf?: string;
}
