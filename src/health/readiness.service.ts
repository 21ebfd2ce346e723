import { withTimeout } from '../common/with-timeout.js';
import { Injectable, OnModuleDestroy } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Server } from 'node:http';
import type { DataSource } from 'typeorm';

/** Why a process is not ready to take traffic, or `null` when it is. */
export type NotReadyReason = 'shutting down' | 'Postgres is unreachable' | 'migrations are pending';

/**
 * Whether this process should get traffic (Kubernetes' readiness): Postgres answers, every migration
 * this build knows is applied, and the process is not stopping. Stopping starts when the HTTP server
 * stops listening (the graceful stop's first step) or the application begins to close.
 */
@Injectable()
export class ReadinessService implements OnModuleDestroy {
  private closing = false;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  onModuleDestroy(): void {
    this.closing = true;
  }

  /** The reason this process is not ready, or `null`; Postgres gets `timeoutMs` to answer. */
  async notReadyReason(timeoutMs: number): Promise<NotReadyReason | null> {
    if (this.stopping()) return 'shutting down';
    let applied: Set<string>;
    try {
      applied = await this.appliedMigrations(timeoutMs);
    } catch {
      return 'Postgres is unreachable';
    }
    if (this.stopping()) return 'shutting down';
    return this.dataSource.migrations.every((migration) => migration.name !== undefined && applied.has(migration.name))
      ? null
      : 'migrations are pending';
  }

  private stopping(): boolean {
    const server = this.adapterHost.httpAdapter?.getHttpServer() as Server | undefined;
    return this.closing || (server !== undefined && !server.listening);
  }

  /** The names of the applied migrations: one small query, which also shows that Postgres answers. */
  private async appliedMigrations(timeoutMs: number): Promise<Set<string>> {
    const table = this.dataSource.options.migrationsTableName ?? 'migrations';
    const query: Promise<Array<{ name: string }>> = this.dataSource.query(`SELECT name FROM ${table}`);
    const rows = await withTimeout(query, timeoutMs, 'Reading the applied migrations');
    return new Set(rows.map((row) => row.name));
  }
}
