import { Body, Controller, Get, HttpCode, HttpStatus, Param, Post, Query, Res } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
} from '@nestjs/swagger';
import type { Response } from 'express';
import { ErrorBody } from '../common/http-error.filter.js';
import { RestApi } from '../common/rest-api.decorator.js';
import { JobIdParams, ListJobsQuery, RegisterJobBody } from './dto/list-jobs.query.js';
import { JobPageResponse, JobResponse, ReconcilePassResponse } from './dto/job.response.js';
import { JobsService } from './jobs.service.js';

/** Job status over REST, behind the API key. */
@RestApi('jobs')
@Controller('jobs')
export class JobsController {
  constructor(private readonly jobs: JobsService) {}

  @Get()
  @ApiOperation({ summary: 'List jobs, newest first (keyset pagination)' })
  @ApiOkResponse({ type: JobPageResponse })
  list(@Query() query: ListJobsQuery): Promise<JobPageResponse> {
    return this.jobs.list(query);
  }

  @Post()
  @ApiOperation({
    summary: 'Track a project before any webhook',
    description: 'Registers the project as a queued job, so that reconciliation finds it even if every webhook is lost. Idempotent.',
  })
  @ApiCreatedResponse({ type: JobResponse, description: 'Registered now' })
  @ApiOkResponse({ type: JobResponse, description: 'Tracked already; the job as it is' })
  @ApiConflictResponse({ type: ErrorBody, description: 'The id is tracked as a job of another media' })
  async register(@Body() body: RegisterJobBody, @Res({ passthrough: true }) response: Response): Promise<JobResponse> {
    const { created, job } = await this.jobs.register(body.id, body.media);
    response.status(created ? HttpStatus.CREATED : HttpStatus.OK);
    return job;
  }

  @Post('reconcile')
  @HttpCode(HttpStatus.ACCEPTED)
  @ApiOperation({
    summary: "One reconcile pass now: every unfinished job is due a check with Magic Hour's API",
    description: 'Jobs older than 7 days and jobs the API does not know are left out; workers check the rest within the API budget.',
  })
  @ApiAcceptedResponse({ type: ReconcilePassResponse })
  @ApiConflictResponse({ type: ErrorBody, description: 'Reconciliation is off (no MAGIC_HOUR_API_KEY)' })
  reconcileAll(): Promise<ReconcilePassResponse> {
    return this.jobs.requestReconcilePass();
  }

  @Get(':id')
  @ApiOperation({ summary: 'One job with its event history' })
  @ApiOkResponse({ type: JobResponse })
  @ApiNotFoundResponse({ type: ErrorBody })
  get(@Param() params: JobIdParams): Promise<JobResponse> {
    return this.jobs.get(params.id);
  }

  @Post(':id/reconcile')
  @HttpCode(HttpStatus.ACCEPTED)
  @ApiOperation({
    summary: "Ask Magic Hour's API about the job now",
    description: "A worker asks within RECONCILE_INTERVAL_MS (and the API budget); the job's reconciliation field shows the outcome.",
  })
  @ApiAcceptedResponse({ type: JobResponse })
  @ApiNotFoundResponse({ type: ErrorBody })
  @ApiConflictResponse({ type: ErrorBody, description: 'Reconciliation is off (no MAGIC_HOUR_API_KEY), or the job is finished' })
  reconcile(@Param() params: JobIdParams): Promise<JobResponse> {
    return this.jobs.requestReconcile(params.id);
  }
}
