import { Module } from '@nestjs/common';
import { FinishedVideos } from './finished-videos.handler.js';
import { NotificationsController } from './notifications.controller.js';

@Module({
  providers: [FinishedVideos],
  controllers: [NotificationsController],
})
export class NotificationsModule {}
