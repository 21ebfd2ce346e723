import { Controller, Get, Header, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiProduces, ApiTags, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { Registry } from 'prom-client';
import { ErrorBody } from '../common/http-error.filter.js';
import { METRICS_TOKEN_AUTH } from '../common/openapi.constants.js';
import { MetricsTokenGuard } from './metrics-token.guard.js';
import { MetricsService } from './metrics.service.js';

/** `GET /metrics`: Prometheus's text format, in every role (the worker serves HTTP too). */
@ApiTags('operations')
@ApiBearerAuth(METRICS_TOKEN_AUTH)
@Controller('metrics')
@UseGuards(MetricsTokenGuard)
export class MetricsController {
  constructor(private readonly metrics: MetricsService) {}

  @Get()
  @ApiOperation({
    summary: 'Prometheus metrics',
    description: 'Needs Authorization: Bearer <METRICS_TOKEN> only when METRICS_TOKEN is set.',
  })
  @ApiProduces(Registry.PROMETHEUS_CONTENT_TYPE)
  @ApiOkResponse({ schema: { type: 'string' }, description: "Prometheus's text exposition format" })
  @ApiUnauthorizedResponse({ type: ErrorBody, description: 'METRICS_TOKEN is set and was not sent' })
  @Header('content-type', Registry.PROMETHEUS_CONTENT_TYPE)
  @Header('cache-control', 'no-store')
  scrape(): Promise<string> {
    return this.metrics.scrape();
  }
}
