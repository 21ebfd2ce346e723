import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { dropDatabase, ensureDatabase } from '../src/database/database.bootstrap.js';
import { eventBody, projectId } from './support/events.js';
import { signedHeaders } from './support/signing.js';
import { eventually, freePort, POSTGRES_URL, REDIS_URL, TEST_API_KEY, TEST_SECRET, uniqueName } from './support/app.js';
import { removeKeysUnder } from './support/redis-keys.js';

const run = promisify(execFile);
/** The repository: Jest runs from it. */
const root = process.cwd();

/**
 * The package as a user gets it: `npm pack` of this repository, installed into a copy of
 * examples/host-app (from npm's cache where it can), built with the app's own TypeScript, and started.
 */
describe('examples/host-app with the packed module', () => {
  let dir: string;
  let host: ChildProcess | undefined;
  let base: string;
  let output = '';
  const databaseUrl = `${POSTGRES_URL}/${uniqueName('mh_pack')}`;
  const queuePrefix = uniqueName('mhq_pack');

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mh-host-app-'));
    // `prepare` builds dist first, so the tarball holds what the sources say now.
    const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', dir], { cwd: root, maxBuffer: 16 * 1024 * 1024 });
    const [{ filename }] = JSON.parse(stdout) as Array<{ filename: string }>;
    const app = join(dir, 'host-app');
    await cp(join(root, 'examples/host-app'), app, { recursive: true, filter: (path) => !/[/\\](node_modules|dist)$/.test(path) });
    await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', join(dir, filename)], { cwd: app });
    await run('npm', ['run', 'build'], { cwd: app });

    await ensureDatabase(databaseUrl);
    const port = await freePort();
    base = `http://127.0.0.1:${port}/api`;
    host = spawn(process.execPath, ['dist/main.js'], {
      cwd: app,
      env: {
        PATH: process.env.PATH ?? '',
        PORT: String(port),
        DATABASE_URL: databaseUrl,
        REDIS_URL,
        QUEUE_PREFIX: queuePrefix,
        MAGIC_HOUR_WEBHOOK_SECRET: TEST_SECRET,
        API_KEYS: TEST_API_KEY,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    host.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    host.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await eventually(async () => {
      if (host?.exitCode !== null) throw new Error(`the host app exited:\n${output}`);
      return (await fetch(`${base}/hello`)).ok;
    }, 30_000);
  }, 240_000);

  afterAll(async () => {
    if (host && host.exitCode === null) {
      const exited = new Promise((done) => host?.once('exit', done));
      host.kill('SIGTERM');
      await exited;
    }
    await dropDatabase(databaseUrl);
    await removeKeysUnder(REDIS_URL, [queuePrefix]);
    await rm(dir, { recursive: true, force: true });
  });

  it("serves the app's own route next to the module's", async () => {
    const answer = await fetch(`${base}/hello`);
    expect(await answer.json()).toEqual({ hello: 'world' });
  });

  it("takes a signed event, runs the app's own handler and answers GET /jobs/:id", async () => {
    const id = projectId();
    const body = eventBody('video.completed', id);
    const answer = await fetch(`${base}/magic-hour/webhook`, { method: 'POST', headers: signedHeaders(body, TEST_SECRET), body });
    expect(answer.status).toBe(200);
    expect(await answer.json()).toEqual({ received: true, duplicate: false });

    await eventually(async () => {
      const notifications = (await (await fetch(`${base}/notifications`)).json()) as { finished: string[] };
      return notifications.finished.includes(id);
    });
    const job = await fetch(`${base}/jobs/${id}`, { headers: { authorization: `Bearer ${TEST_API_KEY}` } });
    expect(job.status).toBe(200);
    expect(await job.json()).toMatchObject({ id, media: 'video', status: 'complete' });
  });
});
