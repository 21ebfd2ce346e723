import { Controller, Get, Param, Query, UseGuards } from '@nestjs/common';
import { ApiKeyGuard } from '../common/api-key.guard.js';
import { ApiRateLimitGuard } from '../common/api-rate-limit.guard.js';
import { JobIdParams, ListJobsQuery } from './dto/list-jobs.query.js';
import type { JobPageResponse, JobResponse } from './dto/job.response.js';
import { JobsService } from './jobs.service.js';

/** Job status over REST, behind the API key. */
@Controller('jobs')
// The rate limit first, so that failed attempts at a key count too.
@UseGuards(ApiRateLimitGuard, ApiKeyGuard)
export class JobsController {
  constructor(private readonly jobs: JobsService) {}

  @Get()
  list(@Query() query: ListJobsQuery): Promise<JobPageResponse> {
    return this.jobs.list(query);
  }

  @Get(':id')
  get(@Param() params: JobIdParams): Promise<JobResponse> {
    return this.jobs.get(params.id);
  }
}
