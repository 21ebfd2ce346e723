import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { EVENT_TYPES } from '../magic-hour/magic-hour-event.types.js';
import { API_KEY_AUTH, METRICS_TOKEN_AUTH } from '../common/openapi.constants.js';

/** Where the Swagger UI is served; the document itself is at `/docs-json` (and `/docs-yaml`). */
export const DOCS_PATH = 'docs';

/** The name of the schema listing the nine event types. */
export const EVENT_TYPE_SCHEMA = 'MagicHourEventType';

/**
 * The OpenAPI document of the service, from its controllers and DTOs (`POST /webhook` included), with
 * the API key and the metrics token as bearer schemes.
 */
export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Magic Hour webhook service')
    .setDescription(
      "Receives Magic Hour's webhooks (POST /webhook, signed), stores every event in Postgres, processes each once, and " +
        'answers job status and the event inbox over REST (Bearer API key). Every answer carries an x-request-id header.',
    )
    .setVersion('1.0.0')
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'API key', description: 'One of API_KEYS' }, API_KEY_AUTH)
    .addBearerAuth(
      { type: 'http', scheme: 'bearer', bearerFormat: 'token', description: 'METRICS_TOKEN (only when it is set)' },
      METRICS_TOKEN_AUTH,
    )
    .addTag('webhook', "Magic Hour's deliveries")
    .addTag('jobs', 'Job status (API key)')
    .addTag('events', 'The event inbox and replays (API key)')
    .addTag('operations', 'Health and metrics')
    .build();
  const document = SwaggerModule.createDocument(app, config);
  document.components!.schemas![EVENT_TYPE_SCHEMA] = {
    type: 'string',
    enum: [...EVENT_TYPES],
    description: 'The event types Magic Hour sends today; a well-formed type not in this list is stored as ignored',
  };
  return document;
}

/**
 * Serves the Swagger UI at `/docs` and the document at `/docs-json`, open to anyone: it describes the
 * public contract only, no data.
 */
export function serveDocs(app: INestApplication): void {
  const document = buildOpenApiDocument(app);
  SwaggerModule.setup(DOCS_PATH, app, document, {
    customSiteTitle: 'Magic Hour webhook service',
    swaggerOptions: { validatorUrl: null },
  });
}
