import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import { ApiProperty } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { STATUS_CODES } from 'node:http';
import {
  ConflictError,
  DomainError,
  EventNotFoundError,
  InvalidRequestError,
  InvalidWebhookError,
  JobNotFoundError,
  StillInvalidError,
  StorageUnavailableError,
  UpstreamError,
  UpstreamUnavailableError,
} from './domain.errors.js';

/** The body of every error answer. */
export class ErrorBody {
  @ApiProperty({ type: 'integer', example: 401 })
  statusCode!: number;

  @ApiProperty({ description: "The status's reason phrase", example: 'Unauthorized' })
  error!: string;

  @ApiProperty({
    oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }],
    description: 'What went wrong; a list when a request has several invalid fields',
    example: 'Invalid API key',
  })
  message!: string | string[];
}

function domainStatus(error: DomainError): number {
  if (error instanceof InvalidWebhookError || error instanceof InvalidRequestError) return HttpStatus.BAD_REQUEST;
  if (error instanceof JobNotFoundError || error instanceof EventNotFoundError) return HttpStatus.NOT_FOUND;
  if (error instanceof ConflictError) return HttpStatus.CONFLICT;
  if (error instanceof StillInvalidError) return HttpStatus.UNPROCESSABLE_ENTITY;
  if (error instanceof StorageUnavailableError || error instanceof UpstreamUnavailableError) return HttpStatus.SERVICE_UNAVAILABLE;
  if (error instanceof UpstreamError) return HttpStatus.BAD_GATEWAY;
  return HttpStatus.INTERNAL_SERVER_ERROR;
}

/** Builds the JSON error body for a status. */
export function errorBody(statusCode: number, message: string | string[]): ErrorBody {
  return { statusCode, error: STATUS_CODES[statusCode] ?? 'Error', message };
}

/**
 * What an exception becomes: domain errors by kind, Nest's HTTP exceptions as they are, anything else
 * a 500 with no detail (logged with its stack and the request's id by `logger`, never sent).
 */
export function errorBodyFor(exception: unknown, logger: Logger, requestId?: string): ErrorBody {
  if (exception instanceof DomainError) {
    const status = domainStatus(exception);
    if (status === 500) logger.error({ reqId: requestId, stack: exception.stack }, exception.message);
    return errorBody(status, status === 500 ? 'Internal server error' : exception.message);
  }
  if (exception instanceof HttpException) {
    const answer = exception.getResponse();
    const message =
      typeof answer === 'object' && answer !== null && 'message' in answer ? (answer.message as string | string[]) : exception.message;
    return errorBody(exception.getStatus(), message);
  }
  logger.error(
    { reqId: requestId, stack: exception instanceof Error ? exception.stack : undefined },
    exception instanceof Error ? exception.message : String(exception),
  );
  return errorBody(HttpStatus.INTERNAL_SERVER_ERROR, 'Internal server error');
}

/** The one place errors become HTTP answers (JSON, with `errorBodyFor`). */
@Catch()
export class HttpErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger(HttpErrorFilter.name);

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const response = http.getResponse<Response>();
    const body = errorBodyFor(exception, this.logger, http.getRequest<Request & { id?: string }>().id);
    if (response.headersSent) return;
    // For the webhook's delivery log line, which is written once the answer is sent.
    response.locals.errorMessage = body.message;
    response.status(body.statusCode).json(body);
  }
}
