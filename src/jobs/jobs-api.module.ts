import { Module } from '@nestjs/common';
import { ApiKeyGuard } from '../common/api-key.guard.js';
import { JobsController } from './jobs.controller.js';
import { JobsModule } from './jobs.module.js';

/** `GET /jobs` and `GET /jobs/:id`; loaded only in processes that take the HTTP role. */
@Module({
  imports: [JobsModule],
  controllers: [JobsController],
  providers: [ApiKeyGuard],
})
export class JobsApiModule {}
