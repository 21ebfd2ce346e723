import { Module } from '@nestjs/common';
import { ReconcileStatusService } from './reconcile-status.service.js';
import { ReconcileRepository } from './reconcile.repository.js';

/** Reconciliation's state and gauges, in every role (`/health`, `/metrics`). */
@Module({
  providers: [ReconcileRepository, ReconcileStatusService],
  exports: [ReconcileStatusService],
})
export class ReconcileStatusModule {}
