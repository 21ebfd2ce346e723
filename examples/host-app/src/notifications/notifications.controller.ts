import { Controller, Get } from '@nestjs/common';
import { FinishedVideos } from './finished-videos.handler.js';

@Controller('notifications')
export class NotificationsController {
  constructor(private readonly finished: FinishedVideos) {}

  @Get()
  list(): { finished: string[] } {
    return { finished: this.finished.list() };
  }
}
