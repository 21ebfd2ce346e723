import { Controller, Get, Param, Query, UseGuards } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { ApiKeyGuard } from '../common/api-key.guard.js';
import { ErrorBody } from '../common/http-error.filter.js';
import { API_KEY_AUTH } from '../docs/openapi.constants.js';
import { ApiRateLimitGuard, RATE_LIMITED } from '../common/api-rate-limit.guard.js';
import { JobIdParams, ListJobsQuery } from './dto/list-jobs.query.js';
import { JobPageResponse, JobResponse } from './dto/job.response.js';
import { JobsService } from './jobs.service.js';

/** Job status over REST, behind the API key. */
@ApiTags('jobs')
@ApiBearerAuth(API_KEY_AUTH)
@ApiUnauthorizedResponse({ type: ErrorBody, description: 'Missing or invalid API key' })
@ApiBadRequestResponse({ type: ErrorBody, description: 'An invalid query or path parameter' })
@ApiTooManyRequestsResponse(RATE_LIMITED)
@Controller('jobs')
// The rate limit first, so that failed attempts at a key count too.
@UseGuards(ApiRateLimitGuard, ApiKeyGuard)
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
