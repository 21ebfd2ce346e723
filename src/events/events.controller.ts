import { Controller, Get, HttpCode, HttpStatus, Param, Post, Query, UseGuards } from '@nestjs/common';
import { ApiKeyGuard } from '../common/api-key.guard.js';
import { ApiRateLimitGuard } from '../common/api-rate-limit.guard.js';
import { EventFilterQuery, EventIdParams, ListEventsQuery, ReplayQuery } from './dto/list-events.query.js';
import { EventsService, type EventResponse, type ReplayResponse } from './events.service.js';

/** The inbox for operators, behind the API key: events, their handler runs, and replays. */
@Controller('events')
// The rate limit first, so that failed attempts at a key count too.
@UseGuards(ApiRateLimitGuard, ApiKeyGuard)
export class EventsController {
  constructor(private readonly events: EventsService) {}

  @Get()
  list(@Query() query: ListEventsQuery): Promise<{ items: EventResponse[]; nextCursor: string | null }> {
    return this.events.list({ status: query.status, type: query.type, jobId: query.jobId }, query.limit, query.cursor);
  }

  @Post('replay')
  @HttpCode(HttpStatus.ACCEPTED)
  replayMany(@Query() query: EventFilterQuery): ReturnType<EventsService['replayMany']> {
    return this.events.replayMany(query);
  }

  @Get(':id')
  get(@Param() params: EventIdParams): Promise<EventResponse> {
    return this.events.get(params.id);
  }

  @Post(':id/replay')
  @HttpCode(HttpStatus.ACCEPTED)
  replay(@Param() params: EventIdParams, @Query() query: ReplayQuery): Promise<ReplayResponse> {
    return this.events.replay(params.id, query.handler);
  }
}
