/**
 * Baseline: the implementation of the same card most NestJS developers would write (a controller with
 * `rawBody`, an HMAC guard, `ValidationPipe` over nested DTOs, a TypeORM insert guarded by the unique
 * key, `queue.add` per request, one `@Process()` that upserts the job row). Idiomatic, not tuned.
 *
 *   DATABASE_URL=... QUEUE_PREFIX=... MAGIC_HOUR_WEBHOOK_SECRET=... [APP_ROLE=api] node dist/bench/baselines/conventional/main.js
 */
import 'reflect-metadata';
import { ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module.js';
import { conventionalConfig } from './conventional.config.js';

const app = await NestFactory.create(AppModule, { rawBody: true });
app.useGlobalPipes(new ValidationPipe({ whitelist: true, transform: true }));
app.enableShutdownHooks();
await app.listen(conventionalConfig.port, '127.0.0.1');
