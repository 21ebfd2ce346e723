import { applyDecorators, UseFilters, UseGuards, UsePipes, ValidationPipe, type ValidationPipeOptions } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiServiceUnavailableResponse,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { API_KEY_AUTH } from './openapi.constants.js';
import { ApiKeyGuard } from './api-key.guard.js';
import { ApiThrottlerGuard, RATE_LIMIT_UNAVAILABLE, RATE_LIMITED } from './api-throttler.guard.js';
import { ErrorBody, HttpErrorFilter } from './http-error.filter.js';

/** How request DTOs are validated: each controller with DTOs (the REST API's, the console's) has its own pipe. */
export const VALIDATION_OPTIONS: ValidationPipeOptions = {
  transform: true,
  whitelist: true,
  forbidNonWhitelisted: true,
  stopAtFirstError: false,
};

/**
 * Marks a controller as part of the REST API behind the API key: the rate limit (first, so that failed
 * attempts at a key count too), the key check, and the answers both give, in the OpenAPI document
 * under `tag`. Its own validation pipe and error filter make it answer the same inside a host app
 * that has neither.
 */
export function RestApi(tag: string): ClassDecorator {
  return applyDecorators(
    ApiTags(tag),
    ApiBearerAuth(API_KEY_AUTH),
    ApiUnauthorizedResponse({ type: ErrorBody, description: 'Missing or invalid API key' }),
    ApiBadRequestResponse({ type: ErrorBody, description: 'An invalid query or path parameter' }),
    ApiTooManyRequestsResponse(RATE_LIMITED),
    ApiServiceUnavailableResponse(RATE_LIMIT_UNAVAILABLE),
    UseGuards(ApiThrottlerGuard, ApiKeyGuard),
    UsePipes(new ValidationPipe(VALIDATION_OPTIONS)),
    UseFilters(HttpErrorFilter),
  );
}
