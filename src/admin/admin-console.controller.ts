import { VALIDATION_OPTIONS } from '../common/rest-api.decorator.js';
import { ApiExcludeController } from '@nestjs/swagger';
import {
  Body,
  Controller,
  Get,
  Logger,
  Param,
  Post,
  Query,
  Render,
  Req,
  Res,
  UseFilters,
  UseGuards,
  UsePipes,
  ValidationPipe,
} from '@nestjs/common';
import type { Request, Response } from 'express';
import { ConflictError, StillInvalidError } from '../common/domain.errors.js';
import { errorBodyFor } from '../common/http-error.filter.js';
import type { ReplayOutcome } from '../events/dto/event.response.js';
import { EventIdParams } from '../events/dto/list-events.query.js';
import { EventsService } from '../events/events.service.js';
import { JobIdParams } from '../jobs/dto/list-jobs.query.js';
import { JobsService } from '../jobs/jobs.service.js';
import { ReconcileStatusService } from '../reconcile/reconcile-status.service.js';
import { ADMIN_LOGIN_PATH, ADMIN_PAGE_SIZE, ADMIN_PATH, ADMIN_SESSION_COOKIE } from './admin.constants.js';
import { AdminCsrfForm, AdminEventQuery, AdminEventsQuery, AdminJobQuery, AdminJobsQuery } from './admin.dto.js';
import { AdminCsrfGuard } from './admin-csrf.guard.js';
import { CurrentAdminSession, wantsHtml } from './admin-http.js';
import { AdminPageFilter } from './admin-page.filter.js';
import { type ConsoleSettings, eventsView, eventView, jobsView, jobView, type Notice } from './admin-pages.presenter.js';
import { type AdminSession, AdminSessionService } from './admin-session.service.js';

/**
 * What the event page says after a replay, by what the replay started: one message for every
 * outcome `EventsService.replay` returns (a new one fails the typecheck here until it has its own).
 * `ignored` comes from a quarantined event that now validates and from a stale one released, so its
 * message holds for both.
 */
const REPLAYED: Record<ReplayOutcome, string> = {
  processing: 'Replay started: the event is queued to be processed.',
  handlers: 'Replay started: its failed handlers are queued to run again.',
  ignored: 'Replayed: the event is of a type this service does not process, so it is stored as ignored and not processed.',
  quarantined:
    'Replayed: the event is not valid, so it is now quarantined with the reasons under Last error; once they are fixed, replay it again.',
};

/** What the job page says once "Reconcile now" was asked for. */
const RECONCILE_REQUESTED =
  "Asked: a worker checks the job with Magic Hour's API at its next reconcile pass, within the API budget. Reload to see the outcome.";

/**
 * The operator console's pages (behind `AdminAuthMiddleware`): jobs, a job's timeline, events and
 * their replay, a job's reconciliation. Reads and actions go through the same services as the REST API.
 */
// HTML pages for people, not part of the REST API the OpenAPI document describes.
@ApiExcludeController()
@Controller('admin')
@UseFilters(AdminPageFilter)
@UsePipes(new ValidationPipe(VALIDATION_OPTIONS))
export class AdminConsoleController {
  private readonly logger = new Logger(AdminConsoleController.name);

  constructor(
    private readonly jobs: JobsService,
    private readonly events: EventsService,
    private readonly sessions: AdminSessionService,
    private readonly reconciliation: ReconcileStatusService,
  ) {}

  /** Whether reconciliation is on, and paused (read each time: a worker may pause or resume it). */
  private async settings(): Promise<ConsoleSettings> {
    const state = await this.reconciliation.state();
    return { reconcileOn: state.enabled, pause: state.enabled ? state.pause : null };
  }

  @Get()
  @Render('jobs')
  async jobsPage(@Query() query: AdminJobsQuery, @CurrentAdminSession() session: AdminSession) {
    const page = await this.jobs.list({ ...query, limit: ADMIN_PAGE_SIZE });
    return jobsView(session, page, { status: query.status, media: query.media });
  }

  @Get('jobs/:id')
  @Render('job')
  async jobPage(@Param() params: JobIdParams, @Query() query: AdminJobQuery, @CurrentAdminSession() session: AdminSession) {
    const notice: Notice | undefined = query.reconcile === 'requested' ? { kind: 'ok', text: RECONCILE_REQUESTED } : undefined;
    const [job, settings] = await Promise.all([this.jobs.get(params.id), this.settings()]);
    return jobView(session, job, settings, notice);
  }

  /**
   * The Reconcile now button: asks for a check with Magic Hour's API as `POST /jobs/:id/reconcile`
   * does, then shows the job. A refusal (reconciliation off, the job finished) is shown on the job's
   * page; a client not asking for HTML gets it as JSON, like every other console error.
   */
  @Post('jobs/:id/reconcile')
  @UseGuards(AdminCsrfGuard)
  async reconcile(
    @Param() params: JobIdParams,
    @Body() _form: AdminCsrfForm,
    @CurrentAdminSession() session: AdminSession,
    @Req() request: Request,
    @Res() response: Response,
  ): Promise<void> {
    try {
      await this.jobs.requestReconcile(params.id);
      response.redirect(303, `${ADMIN_PATH}/jobs/${encodeURIComponent(params.id)}?reconcile=requested`);
    } catch (error) {
      if (!(error instanceof ConflictError) || !wantsHtml(request.headers)) throw error;
      const body = errorBodyFor(error, this.logger);
      const [job, settings] = await Promise.all([this.jobs.get(params.id), this.settings()]);
      response
        .status(body.statusCode)
        .render('job', jobView(session, job, settings, { kind: 'error', text: `Not reconciled: ${String(body.message)}` }));
    }
  }

  @Get('events')
  @Render('events')
  async eventsPage(@Query() query: AdminEventsQuery, @CurrentAdminSession() session: AdminSession) {
    const filter = { status: query.status, type: query.type, jobId: query.jobId };
    return eventsView(session, await this.events.list(filter, ADMIN_PAGE_SIZE, query.cursor), filter);
  }

  @Get('events/:id')
  @Render('event')
  async eventPage(@Param() params: EventIdParams, @Query() query: AdminEventQuery, @CurrentAdminSession() session: AdminSession) {
    const notice: Notice | undefined = query.replayed && { kind: 'ok', text: REPLAYED[query.replayed] };
    return eventView(session, await this.events.get(params.id), notice);
  }

  /**
   * The Replay button: replays the event as `POST /events/:id/replay` does, then shows the event.
   * A refused replay (nothing to replay, still invalid) is shown on the event's page with its status;
   * a client not asking for HTML gets the error as JSON, like every other console error.
   */
  @Post('events/:id/replay')
  @UseGuards(AdminCsrfGuard)
  async replay(
    @Param() params: EventIdParams,
    @Body() _form: AdminCsrfForm,
    @CurrentAdminSession() session: AdminSession,
    @Req() request: Request,
    @Res() response: Response,
  ): Promise<void> {
    try {
      const result = await this.events.replay(params.id);
      response.redirect(303, `${ADMIN_PATH}/events/${encodeURIComponent(params.id)}?replayed=${result.replayed}`);
    } catch (error) {
      // What the current state refuses is shown with the event; anything else is an error page.
      if (!(error instanceof ConflictError || error instanceof StillInvalidError) || !wantsHtml(request.headers)) throw error;
      const body = errorBodyFor(error, this.logger);
      const event = await this.events.get(params.id);
      response
        .status(body.statusCode)
        .render('event', eventView(session, event, { kind: 'error', text: `Not replayed: ${String(body.message)}` }));
    }
  }

  /** Deletes the session from the store (its cookie, wherever a copy is, lets no one in again) and the cookie. */
  @Post('logout')
  @UseGuards(AdminCsrfGuard)
  async logout(@Body() _form: AdminCsrfForm, @Req() request: Request, @Res() response: Response): Promise<void> {
    await this.sessions.logOut(request);
    response.clearCookie(ADMIN_SESSION_COOKIE, { path: ADMIN_PATH, httpOnly: true, sameSite: 'strict', secure: request.secure });
    response.redirect(303, ADMIN_LOGIN_PATH);
  }
}
