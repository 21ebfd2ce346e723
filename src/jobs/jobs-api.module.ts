import {
  BadRequestException,
  type MiddlewareConsumer,
  Module,
  type NestModule,
  PayloadTooLargeException,
  RequestMethod,
  UnsupportedMediaTypeException,
} from '@nestjs/common';
import { json, type NextFunction, type Request, type Response } from 'express';
import { ApiKeyGuard } from '../common/api-key.guard.js';
import { JobsController } from './jobs.controller.js';
import { JobsModule } from './jobs.module.js';

/** Largest body `POST /jobs` reads: an id and a media. */
const REGISTER_BODY_LIMIT_BYTES = 4096;

const parseJson = json({ limit: REGISTER_BODY_LIMIT_BYTES });

/**
 * Reads `POST /jobs`'s JSON body (the app has no global body parser), answering a body that is not
 * JSON 415 or 400 and one too large 413, in the API's error shape.
 */
async function readJsonBody(request: Request, response: Response, next: NextFunction): Promise<void> {
  if (request.is('application/json') === false) throw new UnsupportedMediaTypeException('Send the body as application/json');
  const failure = await new Promise<{ status?: number } | undefined>((resolve) => {
    parseJson(request, response, (error?: unknown) => resolve(error as { status?: number } | undefined));
  });
  if (failure?.status === 413) throw new PayloadTooLargeException(`The body is over ${REGISTER_BODY_LIMIT_BYTES} bytes`);
  if (failure) throw new BadRequestException('The body is not valid JSON');
  next();
}

/** `GET /jobs`, `GET /jobs/:id`, `POST /jobs`, `POST /jobs/:id/reconcile`; loaded only in processes that take the HTTP role. */
@Module({
  imports: [JobsModule],
  controllers: [JobsController],
  providers: [ApiKeyGuard],
})
export class JobsApiModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(readJsonBody).forRoutes({ path: 'jobs', method: RequestMethod.POST });
  }
}
