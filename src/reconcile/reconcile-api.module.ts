import { Module } from '@nestjs/common';
import { ApiKeyGuard } from '../common/api-key.guard.js';
import { RefreshDownloadsController } from './refresh-downloads.controller.js';

/** `POST /jobs/:id/refresh-downloads`; loaded only in processes that take the HTTP role. */
@Module({
  controllers: [RefreshDownloadsController],
  providers: [ApiKeyGuard],
})
export class ReconcileApiModule {}
