import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Get, type INestApplication, Injectable, Module, type NestApplicationOptions, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { TypeOrmModule } from '@nestjs/typeorm';
import { json } from 'express';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../src/database/data-source.options.js';
import { dropDatabase, ensureDatabase, prepareDatabase } from '../src/database/database.bootstrap.js';
import { MAGIC_HOUR_ENTITIES, MagicHourWebhooksModule, OnMagicHourEvent, type MagicHourEvent } from '../src/index.js';
import { eventBody, projectId } from './support/events.js';
import { signedHeaders } from './support/signing.js';
import { eventually, POSTGRES_URL, REDIS_URL, TEST_API_KEY, TEST_SECRET, uniqueName } from './support/app.js';
import { removeKeysUnder } from './support/redis-keys.js';

/** Projects the host's handler saw. */
const seen = new Set<string>();

/** A handler in one of the host's own modules, found without being listed anywhere in this service. */
@Injectable()
class HostNotifier {
  @OnMagicHourEvent('video.completed')
  notify(event: MagicHourEvent): void {
    seen.add(event.projectId);
  }
}

@Module({ providers: [HostNotifier] })
class HostNotificationsModule {}

@Controller('hello')
class HostHelloController {
  @Get()
  hello(): { hello: string } {
    return { hello: 'world' };
  }
}

const DATA_SOURCE = 'main';
const databaseUrl = `${POSTGRES_URL}/${uniqueName('mh_host')}`;
const queuePrefix = uniqueName('mhq_host');

/** A host app: its own controller and module, a named data source, and the webhooks module with its settings from a factory. */
function hostModule(role: 'all' | 'api' = 'all'): Type {
  @Module({
    imports: [
      TypeOrmModule.forRoot({ name: DATA_SOURCE, type: 'postgres', url: databaseUrl, autoLoadEntities: true, extra: { max: 4 } }),
      MagicHourWebhooksModule.forRootAsync({
        dataSourceName: DATA_SOURCE,
        role,
        webhookPath: '/magic-hour/webhook/',
        useFactory: () => ({ webhookSecrets: [TEST_SECRET], apiKeys: [TEST_API_KEY], redisUrl: REDIS_URL, queuePrefix }),
      }),
      HostNotificationsModule,
    ],
    controllers: [HostHelloController],
  })
  class HostModule {}
  return HostModule;
}

async function startHost(
  options: NestApplicationOptions,
  setUp: (app: NestExpressApplication) => void = () => undefined,
  role: 'all' | 'api' = 'all',
): Promise<INestApplication> {
  const app = await NestFactory.create<NestExpressApplication>(hostModule(role), { logger: ['error'], ...options });
  app.setGlobalPrefix('api');
  setUp(app);
  try {
    await app.init();
  } catch (error) {
    // A start refused half-way still holds its connections.
    await app.close().catch(() => undefined);
    throw error;
  }
  return app;
}

async function deliver(app: INestApplication, id: string) {
  const body = eventBody('video.completed', id);
  return request(app.getHttpServer()).post('/api/magic-hour/webhook').set(signedHeaders(body, TEST_SECRET)).send(body);
}

describe(MagicHourWebhooksModule.name, () => {
  beforeAll(async () => {
    // The host's database exists; the module creates none, and migrates it at start.
    await ensureDatabase(databaseUrl);
  });

  afterAll(async () => {
    await dropDatabase(databaseUrl);
    await removeKeysUnder(REDIS_URL, [queuePrefix]);
  });

  describe('in a host app created with rawBody: true, a global prefix and a named data source', () => {
    let app: INestApplication;

    beforeAll(async () => {
      app = await startHost({ rawBody: true });
    });

    afterAll(async () => {
      await app.close();
    });

    it('migrates the host database into its own migrations table', async () => {
      const db = new DataSource({ type: 'postgres', url: databaseUrl, extra: { max: 1 } });
      await db.initialize();
      try {
        const [{ count }] = await db.query<Array<{ count: number }>>('SELECT count(*)::int AS count FROM typeorm_migrations');
        expect(count).toBeGreaterThan(0);
        const tables = await db.query<Array<Record<string, string | null>>>(
          `SELECT to_regclass('public.webhook_events') AS events, to_regclass('public.jobs') AS jobs`,
        );
        expect(tables[0]).toEqual({ events: 'webhook_events', jobs: 'jobs' });
      } finally {
        await db.destroy();
      }
    });

    it('leaves the host controllers as they are', async () => {
      await request(app.getHttpServer()).get('/api/hello').expect(200, { hello: 'world' });
    });

    it("stores a signed event at the configured path under the prefix, runs the host module's handler and answers GET /jobs/:id", async () => {
      const id = projectId();
      const answer = await deliver(app, id);
      expect(answer.status).toBe(200);
      expect(answer.body).toEqual({ received: true, duplicate: false });
      await eventually(async () => seen.has(id));
      const job = await request(app.getHttpServer()).get(`/api/jobs/${id}`).set('authorization', `Bearer ${TEST_API_KEY}`);
      expect(job.status).toBe(200);
      expect(job.body).toMatchObject({ id, media: 'video', status: 'complete' });
    });

    it('refuses a bad signature with 401 and the service error body', async () => {
      const body = eventBody('video.completed', projectId());
      const answer = await request(app.getHttpServer())
        .post('/api/magic-hour/webhook')
        .set(signedHeaders(body, 'not-the-secret'))
        .send(body);
      expect(answer.status).toBe(401);
      expect(answer.body).toMatchObject({ statusCode: 401, error: 'Unauthorized' });
    });

    it('answers the REST API with its own key check, validation and error bodies', async () => {
      const server = app.getHttpServer();
      const missing = await request(server).get(`/api/jobs/${projectId()}`).set('authorization', `Bearer ${TEST_API_KEY}`);
      expect(missing.status).toBe(404);
      expect(missing.body).toMatchObject({ statusCode: 404, error: 'Not Found' });
      const unauthorised = await request(server).get('/api/jobs');
      expect(unauthorised.status).toBe(401);
      const invalid = await request(server).get('/api/jobs?limit=1000').set('authorization', `Bearer ${TEST_API_KEY}`);
      expect(invalid.status).toBe(400);
      expect(invalid.body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
    });
  });

  it('takes the raw bytes itself when the host turns body parsing off', async () => {
    const app = await startHost({ bodyParser: false });
    try {
      const id = projectId();
      const answer = await deliver(app, id);
      expect(answer.status).toBe(200);
      await eventually(async () => seen.has(id));
    } finally {
      await app.close();
    }
  });

  it("refuses to start when the host's JSON parser would drop the raw body, and says what to change", async () => {
    // A start that is not refused is stopped, so the failing assertion does not leave it running.
    const refusal = (app: Promise<INestApplication>) =>
      app.then(
        async (started) => {
          await started.close();
          return 'started';
        },
        (error: Error) => error.message,
      );
    // Intake alone (role api): the check is intake's, and no worker is left starting when the start is refused.
    expect(await refusal(startHost({}, undefined, 'api'))).toMatch(/keeps no raw body.*rawBody: true/);
    expect(await refusal(startHost({ bodyParser: false }, (app) => app.use(json()), 'api'))).toMatch(/keeps no raw body/);
  });
});

// A host app lists the service's entities in its own data source; its `synchronize` or
// `migration:generate` would otherwise drop the indexes, checks and defaults the entities don't describe.
describe("A host app's schema synchronization", () => {
  const url = `${POSTGRES_URL}/${uniqueName('mh_host_sync')}`;
  afterAll(async () => await dropDatabase(url));

  it("leaves the service's tables as its migrations made them", async () => {
    await prepareDatabase(url);
    const host = new DataSource({ ...dataSourceOptions(url), entities: [...MAGIC_HOUR_ENTITIES], extra: { max: 1 } });
    await host.initialize();
    try {
      const plan = await host.driver.createSchemaBuilder().log();
      expect(plan.upQueries.map((query) => query.query)).toEqual([]);
    } finally {
      await host.destroy();
    }
  });
});
