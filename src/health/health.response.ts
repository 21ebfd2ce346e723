import { ApiProperty, ApiPropertyOptional, getSchemaPath } from '@nestjs/swagger';

// The shape of `GET /health` for the OpenAPI document; the controller returns terminus's own type.

/** One dependency's state. */
export class DependencyHealth {
  @ApiProperty({ enum: ['up', 'down'] })
  status!: 'up' | 'down';

  @ApiPropertyOptional({ description: 'Why it is down' })
  message?: string;
}

// Keyed by dependency: `database` (Postgres) and `redis`.
const DEPENDENCIES = {
  type: 'object' as const,
  additionalProperties: { $ref: getSchemaPath(DependencyHealth) },
  example: { database: { status: 'up' }, redis: { status: 'up' } },
};

/** `GET /health`: Postgres (`database`) and Redis (`redis`). */
export class HealthResponse {
  @ApiProperty({ enum: ['ok', 'degraded'], description: 'degraded: Redis is down (intake still works)' })
  status!: 'ok' | 'degraded';

  @ApiProperty({ ...DEPENDENCIES, description: 'The dependencies that are up' })
  info!: Record<string, DependencyHealth>;

  @ApiProperty({ ...DEPENDENCIES, description: 'The dependencies that are down' })
  error!: Record<string, DependencyHealth>;

  @ApiProperty({ ...DEPENDENCIES, description: 'Every dependency' })
  details!: Record<string, DependencyHealth>;
}

/** `GET /health/live` and `GET /health/ready` when the answer is yes. */
export class ProbeResponse {
  @ApiProperty({ enum: ['ok'] })
  status!: 'ok';
}
