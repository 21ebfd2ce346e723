import { Module } from '@nestjs/common';
import { RetentionRepository } from './retention.repository.js';
import { RetentionService } from './retention.service.js';

/** Retention, in the worker role: trims old events, jobs and stored files on a schedule, one worker at a time. */
@Module({
  providers: [RetentionRepository, RetentionService],
})
export class RetentionModule {}
