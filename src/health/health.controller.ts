import { Controller, Get } from '@nestjs/common';
import { ApiExtraModels, ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import {
  HealthCheckService,
  HealthIndicatorService,
  TypeOrmHealthIndicator,
  type HealthCheckResult,
  type HealthIndicatorResult,
} from '@nestjs/terminus';
import { ErrorBody } from '../common/http-error.filter.js';
import { WebhookEventQueue } from '../queue/webhook-event.queue.js';
import { ReconcileStatusService } from '../reconcile/reconcile-status.service.js';
import { DependencyHealth, HealthResponse } from './health.response.js';

/** How long each dependency may take to answer the health check. */
const HEALTH_TIMEOUT_MS = 1500;

/**
 * `GET /health`: Postgres and Redis, each `up` or `down` (and `magicHourApi`, see below). Only Postgres decides the HTTP status
 * (503 when it is down): intake keeps working without Redis, so a load balancer must not pull an
 * instance for it; a Redis outage shows as `down` with an overall status of `degraded`.
 */
@ApiTags('operations')
@ApiExtraModels(DependencyHealth)
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly database: TypeOrmHealthIndicator,
    private readonly indicators: HealthIndicatorService,
    private readonly queue: WebhookEventQueue,
    private readonly reconcile: ReconcileStatusService,
  ) {}

  @Get()
  @ApiOperation({ summary: 'Postgres and Redis, each up or down; no auth' })
  @ApiOkResponse({ type: HealthResponse, description: 'Postgres is up (Redis may be down: status degraded)' })
  @ApiServiceUnavailableResponse({ type: ErrorBody, description: 'Postgres is down' })
  async check(): Promise<HealthCheckResult> {
    const [result, redis, api] = await Promise.all([
      this.health.check([() => this.database.pingCheck('database', { timeout: HEALTH_TIMEOUT_MS })]),
      this.redis(),
      this.magicHourApi(),
    ]);
    const up = redis.redis.status === 'up';
    const apiUp = api === null || api.magicHourApi.status === 'up';
    return {
      status: up && apiUp ? result.status : 'degraded',
      info: { ...result.info, ...(up ? redis : {}), ...(api && apiUp ? api : {}) },
      error: { ...result.error, ...(up ? {} : redis), ...(api && !apiUp ? api : {}) },
      details: { ...result.details, ...redis, ...api },
    };
  }

  /**
   * With reconciliation on, `magicHourApi`: `down` while it is paused because the API refused the key
   * or the account (HTTP 200 still: intake and processing go on). Off: not listed.
   */
  private async magicHourApi(): Promise<HealthIndicatorResult<'magicHourApi'> | null> {
    const session = this.indicators.check('magicHourApi');
    try {
      const state = await this.reconcile.state();
      if (!state.enabled) return null;
      if (!state.pause) return session.up();
      return session.down({
        message: `reconciliation paused since ${state.pause.pausedAt.toISOString()}: ${state.pause.reason}`,
        httpStatus: state.pause.httpStatus,
      });
    } catch {
      // Postgres is away: the database check says so.
      return null;
    }
  }

  private async redis(): Promise<HealthIndicatorResult<'redis'>> {
    const session = this.indicators.check('redis');
    try {
      await this.queue.ping();
      return session.up();
    } catch (error) {
      return session.down({ message: (error as Error).message });
    }
  }
}
