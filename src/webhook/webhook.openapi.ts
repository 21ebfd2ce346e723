import { applyDecorators } from '@nestjs/common';
import { ApiBody, ApiExtraModels, ApiHeader, ApiOkResponse, ApiOperation, ApiResponse, ApiTags, getSchemaPath } from '@nestjs/swagger';
import { ErrorBody, errorBody } from '../common/http-error.filter.js';
import { REQUEST_ID_HEADER } from '../logging/request-id.js';
import { AudioPayloadDto, ImagePayloadDto, ProjectPayloadDto, VideoPayloadDto } from '../magic-hour/dto/project-payload.dto.js';
import { WebhookReceivedResponse } from './dto/webhook-answer.dto.js';
import { WebhookEnvelopeDto } from '../magic-hour/dto/webhook-envelope.dto.js';
import { EVENT_ACTIONS, MEDIA, type Media } from '../magic-hour/magic-hour-event.types.js';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER } from '../magic-hour/webhook-signature.js';

/** The payload DTO of each media, as intake validates it. */
export const PAYLOAD_DTOS: Record<Media, new () => ProjectPayloadDto> = {
  video: VideoPayloadDto,
  image: ImagePayloadDto,
  audio: AudioPayloadDto,
};

const ErrorAnswer = (status: number, description: string, message: string) =>
  ApiResponse({
    status,
    description,
    content: { 'application/json': { schema: { $ref: getSchemaPath(ErrorBody) }, example: errorBody(status, message) } },
  });

const perMedia = MEDIA.map((media) => ({
  title: `${media} event`,
  allOf: [
    { $ref: getSchemaPath(WebhookEnvelopeDto) },
    {
      type: 'object' as const,
      properties: {
        type: { type: 'string' as const, enum: EVENT_ACTIONS.map((action) => `${media}.${action}`) },
        payload: { $ref: getSchemaPath(PAYLOAD_DTOS[media]) },
      },
    },
  ],
}));

/** `POST /webhook` in the OpenAPI document, from the same DTOs intake validates with. */
export function ApiWebhookOperation(): MethodDecorator {
  return applyDecorators(
    ApiTags('webhook'),
    ApiExtraModels(WebhookEnvelopeDto, ProjectPayloadDto, ...Object.values(PAYLOAD_DTOS), WebhookReceivedResponse, ErrorBody),
    ApiOperation({
      operationId: 'receiveWebhook',
      summary: "Receive one of Magic Hour's webhook events",
      description:
        'Magic Hour signs `"{timestamp}.{raw body}"` with HMAC-SHA256 and the webhook secret (MAGIC_HOUR_WEBHOOK_SECRET), ' +
        `sending the lowercase hex digest in \`${SIGNATURE_HEADER}\` and the Unix time in \`${TIMESTAMP_HEADER}\`. ` +
        'The signature is checked over the raw bytes, against every configured secret, and the timestamp against ' +
        'WEBHOOK_TOLERANCE_SECONDS. The answer is 200 only once the event is stored in Postgres. A signed but invalid ' +
        'body is answered 200 and kept as quarantined (a 4xx would only buy 24 hours of retries, then its loss); only ' +
        'an unsigned invalid body (signing off) is refused with 400. With no secret configured (never in production) ' +
        'signatures are not checked.',
    }),
    ApiHeader({
      name: SIGNATURE_HEADER,
      required: true,
      description: 'Lowercase hex HMAC-SHA256 of "{timestamp}.{raw body}" (not needed when signing is off)',
      schema: { type: 'string', pattern: '^[0-9a-f]{64}$' },
    }),
    ApiHeader({
      name: TIMESTAMP_HEADER,
      required: true,
      description: 'Unix time in seconds at which the event was signed (not needed when signing is off)',
      schema: { type: 'string', pattern: '^[0-9]{1,12}$' },
    }),
    ApiHeader({
      name: REQUEST_ID_HEADER,
      required: false,
      description: 'Carried into the log line of this delivery and echoed; one is generated when absent or unusable',
      schema: { type: 'string', maxLength: 128 },
    }),
    ApiBody({
      required: true,
      description: 'The exact bytes that were signed. Compressed bodies (Content-Encoding) are refused.',
      schema: { anyOf: [...perMedia, { $ref: getSchemaPath(WebhookEnvelopeDto), title: 'an event of another type (stored as ignored)' }] },
      examples: {
        completed: {
          value: {
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
    }),
    ApiOkResponse({
      description: 'Stored (or stored before: duplicate); quarantined or ignored events are stored too',
      type: WebhookReceivedResponse,
      headers: { [REQUEST_ID_HEADER]: { description: "The delivery's request id", schema: { type: 'string' } } },
      examples: {
        stored: { summary: 'stored', value: { received: true, duplicate: false } },
        duplicate: { summary: 'duplicate', value: { received: true, duplicate: true } },
        ignored: { summary: 'ignored', value: { received: true, duplicate: false, ignored: true } },
        quarantined: { summary: 'quarantined', value: { received: true, duplicate: false, quarantined: true } },
      },
    }),
    ErrorAnswer(400, 'Unsigned (signing off) and not a valid event; nothing stored', 'type must look like "<media>.<action>"'),
    ErrorAnswer(
      401,
      'Missing, repeated or wrong signature (nothing stored), or the right signature with a timestamp outside the tolerance (recorded once per event as a stale event, not processed; see GET /events?status=stale)',
      'Invalid webhook signature: signature does not match',
    ),
    ErrorAnswer(413, 'Body over WEBHOOK_BODY_LIMIT_BYTES; nothing stored', 'request entity too large'),
    ErrorAnswer(
      415,
      'A Content-Type other than JSON, or a compressed body (Content-Encoding other than identity); nothing stored',
      'Unsupported content type: send application/json',
    ),
    ErrorAnswer(503, 'Postgres could not store the event; Magic Hour retries', 'Storage is unavailable; try again later'),
  );
}
