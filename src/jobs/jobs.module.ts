import { Module } from '@nestjs/common';
import { StoredFileRepository } from './stored-file.repository.js';
import { JobRepository } from './job.repository.js';
import { JobsService } from './jobs.service.js';

/** The jobs table and queries over it, for the worker and the REST API alike. */
@Module({
  providers: [JobRepository, JobsService, StoredFileRepository],
  exports: [JobRepository, JobsService, StoredFileRepository],
})
export class JobsModule {}
