import { Controller, HttpCode, HttpStatus, Param, Post } from '@nestjs/common';
import {
  ApiConflictResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProperty,
  ApiServiceUnavailableResponse,
} from '@nestjs/swagger';
import { ErrorBody } from '../common/http-error.filter.js';
import { RestApi } from '../common/rest-api.decorator.js';
import { JobDownloadResponse } from '../jobs/dto/job.response.js';
import { JobIdParams } from '../jobs/dto/list-jobs.query.js';
import { DownloadRefresher } from './download-refresher.service.js';

/** `POST /jobs/:id/refresh-downloads`'s answer. */
export class RefreshedDownloadsResponse {
  @ApiProperty({ type: [JobDownloadResponse], description: "The job's downloads as Magic Hour's API lists them now (stored on the job)" })
  downloads!: JobDownloadResponse[];
}

/** Fresh download URLs from Magic Hour's API, behind the API key. */
@RestApi('jobs')
@Controller('jobs')
export class RefreshDownloadsController {
  constructor(private readonly refresher: DownloadRefresher) {}

  @Post(':id/refresh-downloads')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({ summary: "Read the job's current download URLs from Magic Hour's API and store them (stored URLs expire)" })
  @ApiOkResponse({ type: RefreshedDownloadsResponse })
  @ApiNotFoundResponse({ type: ErrorBody })
  @ApiConflictResponse({ type: ErrorBody, description: 'Reconciliation is off (no MAGIC_HOUR_API_KEY), or the API lists no downloads' })
  @ApiServiceUnavailableResponse({
    type: ErrorBody,
    description: "Magic Hour's API cannot answer now (budget, refusal, rate limit, errors)",
  })
  async refresh(@Param() params: JobIdParams): Promise<RefreshedDownloadsResponse> {
    return { downloads: await this.refresher.refresh(params.id) };
  }
}
