/**
 * The conventional baseline's settings, read from the environment once. (A typical app would use
 * `@nestjs/config`; this baseline keeps to the packages the project already has.)
 */
export interface ConventionalConfig {
  readonly port: number;
  readonly databaseUrl: string;
  readonly redisUrl: string;
  /** Bull's key prefix, so that each bench phase has a queue of its own. */
  readonly queuePrefix: string;
  readonly webhookSecret: string;
  /** `APP_ROLE=api` leaves the queue processor out, as the service's API role does. */
  readonly worker: boolean;
}

/** The settings of this process. */
export const conventionalConfig: ConventionalConfig = {
  port: Number(process.env.PORT ?? 4005),
  databaseUrl: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/conventional_webhooks',
  redisUrl: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
  queuePrefix: process.env.QUEUE_PREFIX ?? 'bull',
  webhookSecret: process.env.MAGIC_HOUR_WEBHOOK_SECRET ?? '',
  worker: process.env.APP_ROLE !== 'api',
};

/** Allowed clock difference between the sender's timestamp and now. */
export const WEBHOOK_TOLERANCE_SECONDS = 300;

/** The Bull queue the controller feeds and the processor consumes. */
export const WEBHOOK_QUEUE = 'webhook-events';
