import { Controller, Get, HttpCode, HttpStatus, Param, Post, Query } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiConflictResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';
import { ErrorBody } from '../common/http-error.filter.js';
import { BulkReplayResponse, EventPageResponse, EventResponse, ReplayResponse } from './dto/event.response.js';
import { RestApi } from '../common/rest-api.decorator.js';
import { EventFilterQuery, EventIdParams, ListEventsQuery, ReplayQuery } from './dto/list-events.query.js';
import { EventsService } from './events.service.js';

/** The inbox for operators, behind the API key: events, their handler runs, and replays. */
@RestApi('events')
@Controller('events')
export class EventsController {
  constructor(private readonly events: EventsService) {}

  @Get()
  @ApiOperation({ summary: 'List stored events, newest first (keyset pagination)' })
  @ApiOkResponse({ type: EventPageResponse })
  list(@Query() query: ListEventsQuery): Promise<EventPageResponse> {
    return this.events.list({ status: query.status, type: query.type, jobId: query.jobId }, query.limit, query.cursor);
  }

  @Post('replay')
  @HttpCode(HttpStatus.ACCEPTED)
  @ApiOperation({ summary: 'Replay every failed (or, with status=quarantined or stale, quarantined or stale) event matching, up to 1,000' })
  @ApiAcceptedResponse({ type: BulkReplayResponse })
  replayMany(@Query() query: EventFilterQuery): Promise<BulkReplayResponse> {
    return this.events.replayMany(query);
  }

  @Get(':id')
  @ApiOperation({ summary: 'One event with its payload and handler runs' })
  @ApiOkResponse({ type: EventResponse })
  @ApiNotFoundResponse({ type: ErrorBody })
  get(@Param() params: EventIdParams): Promise<EventResponse> {
    return this.events.get(params.id);
  }

  @Post(':id/replay')
  @HttpCode(HttpStatus.ACCEPTED)
  @ApiOperation({
    summary: 'Replay one event',
    description:
      'A failed event is processed again (or its dead handlers run again); a quarantined one is validated again and ' +
      'processed if it passes; ?handler= runs that one handler of an applied event.',
  })
  @ApiAcceptedResponse({ type: ReplayResponse })
  @ApiNotFoundResponse({ type: ErrorBody })
  @ApiConflictResponse({ type: ErrorBody, description: 'Nothing to replay' })
  @ApiUnprocessableEntityResponse({ type: ErrorBody, description: 'A quarantined event that is still invalid' })
  replay(@Param() params: EventIdParams, @Query() query: ReplayQuery): Promise<ReplayResponse> {
    return this.events.replay(params.id, query.handler);
  }
}
