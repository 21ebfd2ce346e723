import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, getSchemaPath, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { ErrorBody, errorBody } from '../common/http-error.filter.js';
import { REQUEST_ID_HEADER } from '../logging/request-id.js';
import { AudioPayloadDto, ImagePayloadDto, ProjectPayloadDto, VideoPayloadDto } from '../webhook/dto/project-payload.dto.js';
import { WebhookReceivedResponse } from '../webhook/dto/webhook-answer.dto.js';
import { WebhookEnvelopeDto } from '../webhook/dto/webhook-envelope.dto.js';
import { EVENT_ACTIONS, EVENT_TYPES, MEDIA, type Media } from '../webhook/magic-hour-event.types.js';
import { WEBHOOK_PATH } from '../webhook/webhook-http.handler.js';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER } from '../webhook/webhook-signature.js';
import { API_KEY_AUTH, METRICS_TOKEN_AUTH } from './openapi.constants.js';

// @nestjs/swagger exports the document's type but not its parts.
type OperationObject = NonNullable<OpenAPIObject['paths'][string]['post']>;
type ResponseObject = OperationObject['responses'][string];

/** Where the Swagger UI is served; the document itself is at `/docs-json` (and `/docs-yaml`). */
export const DOCS_PATH = 'docs';

const PAYLOAD_DTOS: Record<Media, new () => ProjectPayloadDto> = {
  video: VideoPayloadDto,
  image: ImagePayloadDto,
  audio: AudioPayloadDto,
};

/** The name of the schema listing the nine event types. */
export const EVENT_TYPE_SCHEMA = 'MagicHourEventType';

const errorAnswer = (status: number, description: string, message: string): ResponseObject => ({
  description,
  content: { 'application/json': { schema: { $ref: getSchemaPath(ErrorBody) }, example: errorBody(status, message) } },
});

/**
 * `POST /webhook`. It is served ahead of Nest's router, so Nest cannot find it: this describes it from
 * the same DTOs intake validates with (the envelope, and the payload per media).
 */
function webhookOperation(): OperationObject {
  const perMedia = MEDIA.map((media) => ({
    title: `${media} event`,
    allOf: [
      { $ref: getSchemaPath(WebhookEnvelopeDto) },
      {
        type: 'object',
        properties: {
          type: { type: 'string', enum: EVENT_ACTIONS.map((action) => `${media}.${action}`) },
          payload: { $ref: getSchemaPath(PAYLOAD_DTOS[media]) },
        },
      },
    ],
  }));
  const answered = (example: object) => ({ value: example });
  return {
    tags: ['webhook'],
    summary: "Receive one of Magic Hour's webhook events",
    description:
      'Magic Hour signs `"{timestamp}.{raw body}"` with HMAC-SHA256 and the webhook secret (MAGIC_HOUR_WEBHOOK_SECRET), ' +
      `sending the lowercase hex digest in \`${SIGNATURE_HEADER}\` and the Unix time in \`${TIMESTAMP_HEADER}\`. ` +
      'The signature is checked over the raw bytes, against every configured secret, and the timestamp against ' +
      'WEBHOOK_TOLERANCE_SECONDS. The answer is 200 only once the event is stored in Postgres. A signed but invalid ' +
      'body is answered 200 and kept as quarantined (a 4xx would only buy 24 hours of retries, then its loss); only ' +
      'an unsigned invalid body (signing off) is refused with 400. With no secret configured (never in production) ' +
      'signatures are not checked.',
    operationId: 'receiveWebhook',
    security: [],
    parameters: [
      {
        name: SIGNATURE_HEADER,
        in: 'header',
        required: true,
        description: 'Lowercase hex HMAC-SHA256 of "{timestamp}.{raw body}" (not needed when signing is off)',
        schema: { type: 'string', pattern: '^[0-9a-f]{64}$' },
      },
      {
        name: TIMESTAMP_HEADER,
        in: 'header',
        required: true,
        description: 'Unix time in seconds at which the event was signed (not needed when signing is off)',
        schema: { type: 'string', pattern: '^[0-9]{1,12}$' },
      },
      {
        name: REQUEST_ID_HEADER,
        in: 'header',
        required: false,
        description: 'Carried into the log line of this delivery and echoed; one is generated when absent or unusable',
        schema: { type: 'string', maxLength: 128 },
      },
    ],
    requestBody: {
      required: true,
      description: 'The exact bytes that were signed. Compressed bodies (Content-Encoding) are refused.',
      content: {
        'application/json': {
          schema: { anyOf: [...perMedia, { $ref: getSchemaPath(WebhookEnvelopeDto), title: 'an event of another type (stored as ignored)' }] },
          example: {
            type: 'video.completed',
            payload: {
              id: 'cm3testjob000001',
              status: 'complete',
              type: 'TEXT_TO_VIDEO',
              downloads: [{ url: 'https://videos.magichour.ai/id/output.mp4', expires_at: '2030-01-01T00:00:00Z' }],
            },
          },
        },
      },
    },
    responses: {
      '200': {
        description: 'Stored (or stored before: duplicate); quarantined or ignored events are stored too',
        headers: { [REQUEST_ID_HEADER]: { description: "The delivery's request id", schema: { type: 'string' } } },
        content: {
          'application/json': {
            schema: { $ref: getSchemaPath(WebhookReceivedResponse) },
            examples: {
              stored: answered({ received: true, duplicate: false }),
              duplicate: answered({ received: true, duplicate: true }),
              ignored: answered({ received: true, duplicate: false, ignored: true }),
              quarantined: answered({ received: true, duplicate: false, quarantined: true }),
            },
          },
        },
      },
      '400': errorAnswer(400, 'Unsigned (signing off) and not a valid event; nothing stored', 'type must look like "<media>.<action>"'),
      '401': errorAnswer(
        401,
        'Missing, repeated or wrong signature (nothing stored), or the right signature with a timestamp outside the tolerance (recorded once per event as a stale event, not processed; see GET /events?status=stale)',
        'Invalid webhook signature: signature does not match',
      ),
      '413': errorAnswer(413, 'Body over WEBHOOK_BODY_LIMIT_BYTES; nothing stored', 'Request body is larger than 262144 bytes'),
      '415': errorAnswer(
        415,
        'A Content-Type other than JSON, or a compressed body (Content-Encoding other than identity); nothing stored',
        'Unsupported content encoding: gzip',
      ),
      '503': errorAnswer(503, 'Postgres could not store the event; Magic Hour retries', 'Storage unavailable'),
    },
  };
}

/**
 * The OpenAPI document of the service: the REST API from its controllers and DTOs, `POST /webhook`
 * from the webhook DTOs, the API key and the metrics token as bearer schemes.
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
  const document = SwaggerModule.createDocument(app, config, {
    extraModels: [WebhookEnvelopeDto, ProjectPayloadDto, ...Object.values(PAYLOAD_DTOS), WebhookReceivedResponse, ErrorBody],
  });
  document.components!.schemas![EVENT_TYPE_SCHEMA] = {
    type: 'string',
    enum: [...EVENT_TYPES],
    description: 'The event types Magic Hour sends today; a well-formed type not in this list is stored as ignored',
  };
  document.paths[WEBHOOK_PATH] = { post: webhookOperation() };
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
