import { Module } from '@nestjs/common';
import { StoredFileRepository } from './stored-file.repository.js';
import { JobRepository } from './job.repository.js';
import { JobsService } from './jobs.service.js';
import { WebhookEventRepository } from '../webhook/webhook-event.repository.js';

/** The jobs table and queries over it, for the worker and the REST API alike. */
@Module({
  providers: [JobRepository, JobsService, StoredFileRepository, WebhookEventRepository],
  exports: [JobRepository, JobsService, StoredFileRepository],
})
export class JobsModule {}
