import { Module } from '@nestjs/common';
import { JobRepository } from './job.repository.js';
import { JobsService } from './jobs.service.js';

/** The jobs table and queries over it, for the worker and the REST API alike. */
@Module({
  providers: [JobRepository, JobsService],
  exports: [JobRepository, JobsService],
})
export class JobsModule {}
