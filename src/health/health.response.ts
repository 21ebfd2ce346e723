import { ApiProperty, ApiPropertyOptional, getSchemaPath } from '@nestjs/swagger';

// The shape of `GET /health` for the OpenAPI document; the controller returns terminus's own type.

/** One dependency's state. */
export class DependencyHealth {
  @ApiProperty({ enum: ['up', 'down'] })
  status!: 'up' | 'down';

  @ApiPropertyOptional({ description: 'Why it is down' })
  message?: string;

  @ApiPropertyOptional({ type: 'integer', description: "magicHourApi only: the status Magic Hour's API refused with (401, 402)" })
  httpStatus?: number;
}

// Keyed by dependency: `database` (Postgres), `redis` and, with reconciliation on, `magicHourApi`.
const DEPENDENCIES = {
  type: 'object' as const,
  additionalProperties: { $ref: getSchemaPath(DependencyHealth) },
  example: { database: { status: 'up' }, redis: { status: 'up' } },
};

/** `GET /health`: Postgres (`database`), Redis (`redis`) and, with reconciliation on, Magic Hour's API (`magicHourApi`). */
export class HealthResponse {
  @ApiProperty({
    enum: ['ok', 'degraded'],
    description: "degraded: Redis is down, or reconciliation is paused because Magic Hour's API refused the key (intake still works)",
  })
  status!: 'ok' | 'degraded';

  @ApiProperty({ ...DEPENDENCIES, description: 'The dependencies that are up' })
  info!: Record<string, DependencyHealth>;

  @ApiProperty({ ...DEPENDENCIES, description: 'The dependencies that are down' })
  error!: Record<string, DependencyHealth>;

  @ApiProperty({ ...DEPENDENCIES, description: 'Every dependency' })
  details!: Record<string, DependencyHealth>;
}
