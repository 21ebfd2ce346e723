import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { MagicHourWebhooksModule } from 'magic-hour-webhooks';
import { HelloController } from './hello.controller.js';
import { NotificationsModule } from './notifications/notifications.module.js';

const list = (value: string | undefined): string[] => (value ?? '').split(',').filter((item) => item.length > 0);

@Module({
  imports: [
    // The app's own database; the module adds its tables (migrations at start) and never creates a database.
    TypeOrmModule.forRoot({ type: 'postgres', url: process.env.DATABASE_URL, autoLoadEntities: true }),
    MagicHourWebhooksModule.forRoot({
      webhookPath: 'magic-hour/webhook',
      webhookSecrets: list(process.env.MAGIC_HOUR_WEBHOOK_SECRET),
      apiKeys: list(process.env.API_KEYS),
      redisUrl: process.env.REDIS_URL,
      queuePrefix: process.env.QUEUE_PREFIX,
    }),
    NotificationsModule,
  ],
  controllers: [HelloController],
})
export class AppModule {}
