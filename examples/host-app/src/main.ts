import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module.js';

// rawBody: true keeps each JSON body's bytes, which the webhook's signature is checked over.
const app = await NestFactory.create(AppModule, { rawBody: true });
app.setGlobalPrefix('api');
await app.listen(Number(process.env.PORT ?? 3000));
