import { Inject } from '@nestjs/common';

/**
 * Injection token of the TypeORM `DataSource` this service's repositories use: the standalone service's
 * own, or the host app's (default or named) when embedded with `MagicHourWebhooksModule`.
 */
export const MAGIC_HOUR_DATA_SOURCE = Symbol('MAGIC_HOUR_DATA_SOURCE');

/** Injects the data source under `MAGIC_HOUR_DATA_SOURCE`. */
export const InjectMagicHourDataSource = (): ParameterDecorator => Inject(MAGIC_HOUR_DATA_SOURCE);
