import 'reflect-metadata';
import { Body, Controller, HttpCode, Module, Post } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';

/** Baseline: Magic Hour's guide handler ported to NestJS, minus the printing: parse, answer 200. */
@Controller('webhook')
class WebhookController {
  @Post()
  @HttpCode(200)
  receive(@Body() _event: unknown): { success: boolean } {
    return { success: true };
  }
}

@Module({ controllers: [WebhookController] })
class BaselineModule {}

const app = await NestFactory.create(BaselineModule, { logger: false });
await app.listen(Number(process.env.PORT ?? 4002), '127.0.0.1');
