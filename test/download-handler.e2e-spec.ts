import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, unlink } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { DataSource } from 'typeorm';
import type { AppConfig } from '../src/config/app.config.js';
import { dropDatabase, prepareDatabase } from '../src/database/database.bootstrap.js';
import { DownloadOutputsHandler } from '../src/handlers/download-outputs.handler.js';
import { PermanentHandlerError, type HandlerContext, type MagicHourEvent } from '../src/handlers/magic-hour-event.js';
import { StoredFileRepository } from '../src/jobs/stored-file.repository.js';
import { freePort, testConfig } from './support/app.js';
import { projectId } from './support/events.js';

const KB = 1024;
/** 300 KB of known, non-repeating bytes. */
const FILE = Buffer.from(Array.from({ length: 300 * KB }, (_, i) => (i * 31 + (i >> 8)) % 251));
const FILE_SHA256 = createHash('sha256').update(FILE).digest('hex');
/** The limit of the handler that checks sizes, and a body just over it. */
const SMALL_LIMIT = 100 * KB;
const OVERSIZE = FILE.subarray(0, 150 * KB);

const inAnHour = (): string => new Date(Date.now() + 3600_000).toISOString();

describe('DownloadOutputsHandler (real migrated Postgres, local HTTP server)', () => {
  let config: AppConfig;
  let db: DataSource;
  let dir: string;
  let server: Server;
  let base: string;
  let repo: StoredFileRepository;
  let handler: DownloadOutputsHandler;
  /** Same, with a `downloadMaxBytes` of 100 KB. */
  let small: DownloadOutputsHandler;
  /** Requests the server saw, by path. */
  const hits = new Map<string, number>();
  const hitsOf = (path: string): number => hits.get(path) ?? 0;

  /** Serves `/<route>/<anything>`; the rest of the path only keeps each test's counts apart. */
  function serve(request: IncomingMessage, response: ServerResponse): void {
    const path = new URL(request.url ?? '/', 'http://x').pathname;
    const seen = (hits.get(path) ?? 0) + 1;
    hits.set(path, seen);
    const route = path.split('/')[1];
    const send = (status: number, body: Buffer = Buffer.alloc(0)): void => {
      response.writeHead(status, { 'content-type': 'application/octet-stream', 'content-length': body.length });
      response.end(body);
    };
    const sendChunked = (body: Buffer): void => {
      // No Content-Length: the size is only known as it arrives.
      response.writeHead(200, { 'content-type': 'application/octet-stream' });
      for (let offset = 0; offset < body.length; offset += 16 * KB) response.write(body.subarray(offset, offset + 16 * KB));
      response.end();
    };
    switch (route) {
      case 'file':
        return send(200, FILE);
      case 'chunked':
        return sendChunked(FILE);
      case 'status':
        return send(Number(path.split('/')[2]));
      case 'oversize':
        return send(200, OVERSIZE);
      case 'oversize-chunked':
        return sendChunked(OVERSIZE);
      case 'exact-limit':
        return sendChunked(FILE.subarray(0, SMALL_LIMIT));
      case 'flaky':
        return seen <= 2 ? send(500) : send(200, FILE);
      case 'reset':
        // Half the body, then the connection dies: a network error in the middle of the download.
        if (seen === 1) {
          response.writeHead(200, { 'content-length': FILE.length });
          response.write(FILE.subarray(0, FILE.length / 2), () => response.destroy());
          return;
        }
        return send(200, FILE);
      case 'hang':
        // Headers and a first chunk, then nothing more: only the run's signal can end this.
        response.writeHead(200, { 'content-length': FILE.length });
        response.write(FILE.subarray(0, 16 * KB));
        return;
      default:
        return send(404);
    }
  }

  const context = (signal: AbortSignal = new AbortController().signal): HandlerContext => ({
    handler: 'DownloadOutputsHandler.store',
    attempt: 1,
    maxAttempts: 5,
    logger: new Logger('test'),
    signal,
  });

  const completed = (downloads: Array<{ url: string; expires_at?: string | null }> | null, id = projectId()): MagicHourEvent => ({
    id: `00000000-0000-4000-8000-${Date.now().toString(16).padStart(12, '0').slice(-12)}`,
    type: 'video.completed',
    media: 'video',
    action: 'completed',
    projectId: id,
    payload: { id, downloads },
    receivedAt: new Date(),
    source: 'webhook',
  });

  /** A URL on the local server that no other test uses. */
  const url = (route: string, name = 'output.mp4'): string => `${base}/${route}/${projectId()}/${name}`;
  const pathOf = (address: string): string => new URL(address).pathname;

  /** Whether the file at `path` holds exactly `FILE` (Jest's deep equality is slow on large buffers). */
  const holdsFile = async (path: string): Promise<boolean> => (await readFile(path)).equals(FILE);

  /** Every file under the download directory, relative to it. */
  async function filesOnDisk(): Promise<string[]> {
    const entries = await readdir(dir, { recursive: true, withFileTypes: true });
    return entries.filter((entry) => entry.isFile()).map((entry) => relative(dir, join(entry.parentPath, entry.name)));
  }

  beforeAll(async () => {
    // Only the database is needed, migrated exactly as the app's start migrates it; booting the whole
    // app would tie this handler's tests to the wiring of every other module.
    config = testConfig();
    await prepareDatabase(config.databaseUrl);
    db = new DataSource({ type: 'postgres', url: config.databaseUrl, extra: { max: 2 } });
    await db.initialize();
    dir = await mkdtemp(join(tmpdir(), 'mh-downloads-'));
    server = createServer(serve);
    const port = await freePort();
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${port}`;
    repo = new StoredFileRepository(db);
    const withDownloads: AppConfig = { ...config, downloadDir: dir, downloadMaxBytes: 1024 * KB };
    handler = new DownloadOutputsHandler(withDownloads, repo);
    small = new DownloadOutputsHandler({ ...withDownloads, downloadMaxBytes: SMALL_LIMIT }, repo);
  });
  afterAll(async () => {
    // The hanging responses keep their sockets open; close() alone would wait for them forever.
    if (server) {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
    if (dir) await rm(dir, { recursive: true, force: true });
    if (db?.isInitialized) await db.destroy();
    if (config) await dropDatabase(config.databaseUrl);
  });
  beforeEach(async () => {
    // Each test asserts on exactly what it left on disk.
    for (const entry of await readdir(dir)) await rm(join(dir, entry), { recursive: true, force: true });
  });

  it('stores a complete file with its size and SHA-256, and records it', async () => {
    const address = url('file', 'render.mp4');
    const event = completed([{ url: address, expires_at: inAnHour() }]);
    await handler.store(event, {} as never, context());

    const target = join(dir, event.projectId, '0-render.mp4');
    expect(await holdsFile(target)).toBe(true);
    expect(await filesOnDisk()).toEqual([join(event.projectId, '0-render.mp4')]);
    const row = await repo.find(event.projectId, address);
    expect(row).toMatchObject({ jobId: event.projectId, url: address, path: target, bytes: FILE.length, sha256: FILE_SHA256 });
    expect(row?.storedAt).toBeInstanceOf(Date);
    expect(await repo.listFor([event.projectId, 'no-such-job'])).toEqual([row]);
    expect(hitsOf(pathOf(address))).toBe(1);
  });

  it('stores a body without Content-Length, and every output of a job under its index', async () => {
    const first = url('chunked', 'a.png');
    const second = url('file', 'b.png');
    const event = completed([
      { url: first, expires_at: null },
      { url: second, expires_at: inAnHour() },
    ]);
    await handler.store(event, {} as never, context());

    expect((await filesOnDisk()).sort()).toEqual([join(event.projectId, '0-a.png'), join(event.projectId, '1-b.png')]);
    const rows = await repo.listFor([event.projectId]);
    expect(rows.map((row) => [row.url, row.bytes, row.sha256]).sort()).toEqual(
      [
        [first, FILE.length, FILE_SHA256],
        [second, FILE.length, FILE_SHA256],
      ].sort(),
    );
  });

  it('does nothing without downloads', async () => {
    for (const downloads of [null, []]) await handler.store(completed(downloads), {} as never, context());
    const absent = completed(null);
    delete (absent.payload as { downloads?: unknown }).downloads;
    await handler.store(absent, {} as never, context());
    expect(await filesOnDisk()).toEqual([]);
  });

  it('does nothing when downloadDir is not set (the handler is off)', async () => {
    const address = url('file');
    const off = new DownloadOutputsHandler({ ...config, downloadDir: null }, repo);
    await off.store(completed([{ url: address, expires_at: inAnHour() }]), {} as never, context());
    expect(hitsOf(pathOf(address))).toBe(0);
  });

  it('does not download again a file already stored, but does once it is gone from disk', async () => {
    const address = url('file');
    const event = completed([{ url: address, expires_at: inAnHour() }]);
    await handler.store(event, {} as never, context());
    await handler.store(event, {} as never, context());
    expect(hitsOf(pathOf(address))).toBe(1);

    // Stored and expired since: still nothing to do.
    await handler.store(completed([{ url: address, expires_at: '2020-01-01T00:00:00.000Z' }], event.projectId), {} as never, context());
    expect(hitsOf(pathOf(address))).toBe(1);

    await unlink(join(dir, event.projectId, '0-output.mp4'));
    await handler.store(event, {} as never, context());
    expect(hitsOf(pathOf(address))).toBe(2);
    expect(await holdsFile(join(dir, event.projectId, '0-output.mp4'))).toBe(true);
    expect(await repo.listFor([event.projectId])).toHaveLength(1);
  });

  it('refuses an expired URL as permanent without fetching it', async () => {
    const address = url('file');
    const event = completed([{ url: address, expires_at: new Date(Date.now() - 1000).toISOString() }]);
    await expect(handler.store(event, {} as never, context())).rejects.toThrow(PermanentHandlerError);
    expect(hitsOf(pathOf(address))).toBe(0);
    expect(await filesOnDisk()).toEqual([]);
    expect(await repo.find(event.projectId, address)).toBeNull();
  });

  it.each([410, 404, 403])('treats HTTP %i as permanent, with one request', async (status) => {
    const address = url(`status/${status}`);
    const event = completed([{ url: address, expires_at: inAnHour() }]);
    const failure = handler.store(event, {} as never, context());
    await expect(failure).rejects.toThrow(PermanentHandlerError);
    await expect(failure).rejects.toThrow(`HTTP ${status}`);
    expect(hitsOf(pathOf(address))).toBe(1);
    expect(await filesOnDisk()).toEqual([]);
    expect(await repo.find(event.projectId, address)).toBeNull();
  });

  it.each([
    // Refused on its declared length, before the body is read.
    ['with', 'oversize', /is 153600 bytes, over the 102400-byte limit/],
    // Cut off once the bytes that arrived pass the limit.
    ['without', 'oversize-chunked', /is over the 102400-byte limit/],
  ])('refuses a file over downloadMaxBytes %s Content-Length as permanent, leaving nothing', async (_, route, message) => {
    const address = url(route);
    const event = completed([{ url: address, expires_at: inAnHour() }]);
    const error = await small.store(event, {} as never, context()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PermanentHandlerError);
    expect((error as Error).message).toMatch(message);
    expect(hitsOf(pathOf(address))).toBe(1);
    expect(await filesOnDisk()).toEqual([]);
    expect(await repo.find(event.projectId, address)).toBeNull();
  });

  it('stores a file of exactly downloadMaxBytes', async () => {
    const event = completed([{ url: url('exact-limit'), expires_at: inAnHour() }]);
    await small.store(event, {} as never, context());
    expect((await stat(join(dir, event.projectId, '0-output.mp4'))).size).toBe(SMALL_LIMIT);
  });

  it('tries again within the run after a 500, and succeeds on the third try', async () => {
    const address = url('flaky');
    const event = completed([{ url: address, expires_at: inAnHour() }]);
    await handler.store(event, {} as never, context());
    expect(hitsOf(pathOf(address))).toBe(3);
    expect(await holdsFile(join(dir, event.projectId, '0-output.mp4'))).toBe(true);
    expect(await filesOnDisk()).toEqual([join(event.projectId, '0-output.mp4')]);
  });

  it('tries again after the connection breaks mid-body, leaving no .part', async () => {
    const address = url('reset');
    const event = completed([{ url: address, expires_at: inAnHour() }]);
    await handler.store(event, {} as never, context());
    expect(hitsOf(pathOf(address))).toBe(2);
    expect(await filesOnDisk()).toEqual([join(event.projectId, '0-output.mp4')]);
    expect((await repo.find(event.projectId, address))?.sha256).toBe(FILE_SHA256);
  });

  it('fails the run with a retryable error after three 500s, leaving no .part', async () => {
    const address = url('status/500');
    const event = completed([{ url: address, expires_at: inAnHour() }]);
    const error = await handler.store(event, {} as never, context()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(PermanentHandlerError);
    expect((error as Error).message).toMatch(/HTTP 500.*tried 3 times/);
    expect(hitsOf(pathOf(address))).toBe(3);
    expect(await filesOnDisk()).toEqual([]);
  });

  it('fails the run with a retryable error when nothing listens', async () => {
    const port = await freePort();
    const event = completed([{ url: `http://127.0.0.1:${port}/output.mp4`, expires_at: inAnHour() }]);
    const error = await handler.store(event, {} as never, context()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(PermanentHandlerError);
    expect((error as Error).message).toMatch(/ECONNREFUSED/);
  });

  it('stops promptly when the run times out mid-body, leaving no .part', async () => {
    const address = url('hang');
    const event = completed([{ url: address, expires_at: inAnHour() }]);
    const started = Date.now();
    const error = await handler.store(event, {} as never, context(AbortSignal.timeout(200))).catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(PermanentHandlerError);
    expect((error as Error).message).toMatch(/aborted/);
    expect(hitsOf(pathOf(address))).toBe(1);
    expect(await filesOnDisk()).toEqual([]);
  });

  it('still stores the other outputs when one has expired, then fails permanently', async () => {
    const good = url('file');
    const event = completed([
      { url: url('file'), expires_at: '2020-01-01T00:00:00.000Z' },
      { url: good, expires_at: inAnHour() },
    ]);
    await expect(handler.store(event, {} as never, context())).rejects.toThrow(PermanentHandlerError);
    expect(await filesOnDisk()).toEqual([join(event.projectId, '1-output.mp4')]);
    expect(await repo.find(event.projectId, good)).not.toBeNull();
  });

  it('keeps hostile job ids and URL paths inside the download directory', async () => {
    const event = completed([{ url: url('file', '..%2F..%2F.secret'), expires_at: inAnHour() }], '../../escape');
    await handler.store(event, {} as never, context());
    const [stored] = await filesOnDisk();
    expect(stored).toMatch(/^\.\._\.\._escape-[0-9a-f]{16}\/0-_\.\._\.secret$/);
    expect((await repo.listFor(['../../escape']))[0].path).toBe(join(dir, stored));

    for (const jobId of ['.', '..']) {
      await expect(handler.store(completed([{ url: url('file'), expires_at: null }], jobId), {} as never, context())).rejects.toThrow(
        PermanentHandlerError,
      );
    }
    // A URL whose path names no file gets a fallback name.
    const bare = completed([{ url: `${base}/file/%25%25`, expires_at: null }]);
    await handler.store(bare, {} as never, context());
    expect(await filesOnDisk()).toContain(join(bare.projectId, '0-output'));
  });
});
