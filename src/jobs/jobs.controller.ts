import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiNotFoundResponse, ApiOkResponse, ApiOperation } from '@nestjs/swagger';
import { ErrorBody } from '../common/http-error.filter.js';
import { RestApi } from '../common/rest-api.decorator.js';
import { JobIdParams, ListJobsQuery } from './dto/list-jobs.query.js';
import { JobPageResponse, JobResponse } from './dto/job.response.js';
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

  @Get(':id')
  @ApiOperation({ summary: 'One job with its event history' })
  @ApiOkResponse({ type: JobResponse })
  @ApiNotFoundResponse({ type: ErrorBody })
  get(@Param() params: JobIdParams): Promise<JobResponse> {
    return this.jobs.get(params.id);
  }
}
