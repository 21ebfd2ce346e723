import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { ALL_TYPES } from './support/events.js';
import { startApp, type TestApp } from './support/app.js';

type Schema = {
  $ref?: string;
  type?: string;
  enum?: unknown[];
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  allOf?: Schema[];
  anyOf?: Schema[];
  nullable?: boolean;
  pattern?: string;
};
type Operation = {
  parameters?: Array<{ name: string; in: string; required?: boolean; schema?: Schema }>;
  requestBody?: { content: Record<string, { schema: Schema }> };
  responses: Record<string, { content?: Record<string, { schema: Schema; example?: unknown }> }>;
  security?: Array<Record<string, string[]>>;
};
type Document = {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema>; securitySchemes: Record<string, { type: string; scheme: string }> };
};

describe('OpenAPI document at /docs (real app)', () => {
  let t: TestApp;
  let doc: Document;
  const schema = (name: string) => doc.components.schemas[name];
  const ref = (name: string) => `#/components/schemas/${name}`;

  beforeAll(async () => {
    t = await startApp();
    const response = await request(t.app.getHttpServer()).get('/docs-json');
    expect(response.status).toBe(200);
    doc = response.body as Document;
  });
  afterAll(async () => {
    await t?.close();
  });

  it('serves the Swagger UI at /docs, without an API key', async () => {
    const page = await request(t.app.getHttpServer()).get('/docs').redirects(1);
    expect(page.status).toBe(200);
    expect(page.text).toContain('swagger-ui');
    // helmet's policy, which the UI works under, without the upgrade that would break it over plain HTTP.
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect(page.headers['content-security-policy']).not.toContain('upgrade-insecure-requests');
    const init = await request(t.app.getHttpServer()).get('/docs/swagger-ui-init.js');
    expect(init.status).toBe(200);
    expect(init.text).toContain('receiveWebhook');
  });

  it('lists every route: the REST API, health, metrics and POST /webhook', () => {
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths).sort()).toEqual(
      [
        '/events',
        '/events/replay',
        '/events/{id}',
        '/events/{id}/replay',
        '/health',
        '/jobs',
        '/jobs/{id}',
        '/jobs/reconcile',
        '/jobs/{id}/reconcile',
        '/jobs/{id}/refresh-downloads',
        '/metrics',
        '/webhook',
      ].sort(),
    );
    expect(Object.keys(doc.paths['/jobs']).sort()).toEqual(['get', 'post']);
    // The rate limit's answer, with its headers, on the REST API.
    for (const path of ['/jobs', '/jobs/{id}', '/events', '/events/{id}']) {
      expect(Object.keys((doc.paths[path].get.responses['429'] as { headers: object }).headers).sort()).toEqual([
        'Retry-After',
        'X-RateLimit-Limit',
        'X-RateLimit-Remaining',
      ]);
    }
    expect(Object.keys(doc.paths['/events/{id}/replay'])).toEqual(['post']);
    expect(Object.keys(doc.paths['/webhook'])).toEqual(['post']);
  });

  it('describes the API key as a bearer scheme on /jobs and /events, and none on /webhook and /health', () => {
    expect(doc.components.securitySchemes['api-key']).toMatchObject({ type: 'http', scheme: 'bearer' });
    for (const [path, operations] of Object.entries(doc.paths)) {
      for (const operation of Object.values(operations)) {
        if (path.startsWith('/jobs') || path.startsWith('/events')) {
          expect(operation.security).toEqual([{ 'api-key': [] }]);
          expect(operation.responses['401'].content!['application/json'].schema).toEqual({ $ref: ref('ErrorBody') });
        } else if (path === '/metrics') {
          expect(operation.security).toEqual([{ 'metrics-token': [] }]);
        } else {
          expect(operation.security ?? []).toEqual([]);
        }
      }
    }
  });

  it('takes the job schemas and query parameters from the DTOs', () => {
    expect(schema('JobStatus').enum).toEqual(['queued', 'rendering', 'complete', 'error', 'canceled']);
    expect(schema('Media').enum).toEqual(['video', 'image', 'audio']);
    const job = schema('JobResponse');
    expect(job.properties!.status).toMatchObject({ allOf: [{ $ref: ref('JobStatus') }] });
    expect(job.properties!.events).toMatchObject({ type: 'array', items: { $ref: ref('JobEventResponse') } });
    expect(job.properties!.downloads).toMatchObject({ type: 'array', items: { $ref: ref('JobDownloadResponse') } });
    expect(job.required).toEqual(expect.arrayContaining(['id', 'media', 'status', 'createdAt', 'events', 'files']));
    expect(schema('JobDownloadResponse').properties).toHaveProperty('expiresAt');

    const list = doc.paths['/jobs'].get;
    expect(list.parameters!.map((p) => [p.name, p.in, p.required])).toEqual([
      ['status', 'query', false],
      ['media', 'query', false],
      ['limit', 'query', false],
      ['cursor', 'query', false],
    ]);
    expect(list.parameters!.find((p) => p.name === 'limit')!.schema).toMatchObject({ type: 'integer', minimum: 1, maximum: 100 });
    expect(list.responses['200'].content!['application/json'].schema).toEqual({ $ref: ref('JobPageResponse') });
    expect(doc.paths['/jobs/{id}'].get.parameters).toEqual([expect.objectContaining({ name: 'id', in: 'path', required: true })]);
    expect(doc.paths['/jobs/{id}'].get.responses['404'].content!['application/json'].schema).toEqual({ $ref: ref('ErrorBody') });
  });

  it('describes tracking a job, asking the API about it, and where each event came from', () => {
    const register = doc.paths['/jobs'].post;
    expect(register.requestBody).toMatchObject({ content: { 'application/json': { schema: { $ref: ref('RegisterJobBody') } } } });
    expect(Object.keys(register.responses)).toEqual(expect.arrayContaining(['200', '201', '409']));
    expect(schema('RegisterJobBody').required).toEqual(expect.arrayContaining(['id', 'media']));
    const reconcile = doc.paths['/jobs/{id}/reconcile'].post;
    expect(Object.keys(reconcile.responses)).toEqual(expect.arrayContaining(['202', '404', '409']));
    const refresh = doc.paths['/jobs/{id}/refresh-downloads'].post;
    expect(refresh.responses['200'].content!['application/json'].schema).toEqual({ $ref: ref('RefreshedDownloadsResponse') });
    expect(Object.keys(refresh.responses)).toEqual(expect.arrayContaining(['200', '404', '409', '503']));
    expect(schema('EventSource').enum).toEqual(['webhook', 'api']);
    expect(schema('JobEventResponse').properties!.source).toMatchObject({ allOf: [{ $ref: ref('EventSource') }] });
    expect(schema('JobResponse').properties!.reconciliation).toEqual({ $ref: ref('JobReconciliationResponse') });
  });

  it('describes the events API and its replays', () => {
    expect(schema('EventStatus').enum).toEqual(['received', 'processed', 'failed', 'ignored', 'quarantined', 'stale']);
    expect(doc.paths['/events'].get.responses['200'].content!['application/json'].schema).toEqual({ $ref: ref('EventPageResponse') });
    expect(doc.paths['/events/{id}'].get.responses['200'].content!['application/json'].schema).toEqual({ $ref: ref('EventResponse') });
    expect(schema('EventResponse').properties!.handlerRuns).toMatchObject({ items: { $ref: ref('HandlerRunResponse') } });
    const replay = doc.paths['/events/{id}/replay'].post;
    expect(Object.keys(replay.responses).sort()).toEqual(['202', '400', '401', '404', '409', '422', '429', '503']);
    expect(replay.parameters!.map((p) => p.name)).toEqual(['id', 'handler']);
    expect(doc.paths['/events/replay'].post.responses['202'].content!['application/json'].schema).toEqual({
      $ref: ref('BulkReplayResponse'),
    });
  });

  it('describes POST /webhook from the envelope and payload DTOs, with the signature headers and every answer', () => {
    const webhook = doc.paths['/webhook'].post;
    const headers = Object.fromEntries(webhook.parameters!.filter((p) => p.in === 'header').map((p) => [p.name, p.required]));
    expect(headers).toEqual({ 'magic-hour-event-signature': true, 'magic-hour-event-timestamp': true, 'x-request-id': false });

    const body = webhook.requestBody!.content['application/json'].schema;
    const variants = body.anyOf!;
    expect(variants).toHaveLength(4);
    for (const [index, media] of ['video', 'image', 'audio'].entries()) {
      const [envelope, specific] = variants[index].allOf!;
      expect(envelope).toEqual({ $ref: ref('WebhookEnvelopeDto') });
      expect(specific.properties!.type.enum).toEqual(['started', 'completed', 'errored'].map((action) => `${media}.${action}`));
      expect(specific.properties!.payload).toEqual({ $ref: ref(`${media[0].toUpperCase()}${media.slice(1)}PayloadDto`) });
    }
    expect(variants[3]).toMatchObject({ $ref: ref('WebhookEnvelopeDto') });

    expect(Object.keys(webhook.responses).sort()).toEqual(['200', '400', '401', '413', '415', '503']);
    expect(webhook.responses['200'].content!['application/json'].schema).toEqual({ $ref: ref('WebhookReceivedResponse') });
    for (const status of ['400', '401', '413', '415', '503']) {
      const answer = webhook.responses[status].content!['application/json'];
      expect(answer.schema).toEqual({ $ref: ref('ErrorBody') });
      expect(answer.example).toMatchObject({ statusCode: Number(status), error: expect.any(String), message: expect.any(String) });
    }
    expect(schema('WebhookReceivedResponse').required).toEqual(['received', 'duplicate']);
    expect(schema('ErrorBody').required).toEqual(['statusCode', 'error', 'message']);
  });

  it('lists the nine event types, and the payload rules the webhook DTOs enforce', () => {
    expect(schema('MagicHourEventType').enum).toEqual(ALL_TYPES);
    const envelope = schema('WebhookEnvelopeDto');
    expect(envelope.required).toEqual(['type', 'payload']);
    expect(new RegExp(envelope.properties!.type.pattern!).test('video.completed')).toBe(true);
    expect(new RegExp(envelope.properties!.type.pattern!).test('video completed')).toBe(false);

    const video = schema('VideoPayloadDto');
    expect(video.required).toEqual(['id']);
    expect(video.properties).toHaveProperty('width');
    expect(video.properties!.created_at).toMatchObject({ type: 'string', format: 'date-time', nullable: true });
    expect(video.properties!.downloads).toMatchObject({ type: 'array', items: { $ref: ref('DownloadDto') } });
    expect(video.properties!.error).toMatchObject({ allOf: [{ $ref: ref('ProjectErrorDto') }] });
    expect(schema('ImagePayloadDto').properties).toHaveProperty('image_count');
    expect(schema('ImagePayloadDto').properties).not.toHaveProperty('width');
    expect(schema('DownloadDto').required).toEqual(['url']);
  });

  it('is not served by a worker, which has no REST API', async () => {
    const worker = await startApp({ APP_ROLE: 'worker' });
    try {
      expect((await request(worker.app.getHttpServer()).get('/docs-json')).status).toBe(404);
      expect((await request(worker.app.getHttpServer()).get('/health')).status).toBe(200);
    } finally {
      await worker.close();
    }
  });
});
