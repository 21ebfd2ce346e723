import { Inject, Injectable, Optional } from '@nestjs/common';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { APP_CONFIG, type AppConfig } from '../config/app.config.js';
import type { JobResponse } from '../jobs/dto/job.response.js';
import { PermanentHandlerError, type HandlerContext, type MagicHourEvent } from './magic-hour-event.js';
import { OnMagicHourEvent } from './on-magic-hour-event.decorator.js';
import { StoredFileRepository } from '../jobs/stored-file.repository.js';
import { DOWNLOAD_URL_REFRESHER, type DownloadUrlRefresher } from './download-url-refresher.js';

/** Tries of one download within a run; after the last, the run fails and the framework retries it later. */
export const DOWNLOAD_TRIES = 3;
/** Pause before each further try within a run (short: the framework's own backoff covers longer outages). */
export const DOWNLOAD_BACKOFF_MS: readonly number[] = [200, 400];

/** Longest part of a file or directory name taken from the outside (file systems allow 255 bytes). */
const MAX_NAME_LENGTH = 120;
const UNSAFE_NAME_CHARACTERS = /[^A-Za-z0-9._-]/g;

/** A failure that another try may get past: a network error, or an answer of 408, 429 or 5xx. */
class TransientDownloadError extends Error {}

/** The size and digest of a file written to disk, and where it was written (renamed to its name when recorded). */
interface WrittenFile {
  bytes: number;
  sha256: string;
  part: string;
}

/**
 * The download handler shipped with the service: when a job completes, it stores each of its
 * outputs (`payload.downloads`) under `DOWNLOAD_DIR/<job id>/<index>-<name>` before Magic Hour's
 * URLs expire, and records each in `stored_files`.
 *
 * A file already recorded and still on disk with its recorded size is not fetched again, so retries
 * and replays are cheap. An expired URL is first replaced by a fresh one from Magic Hour's API when
 * reconciliation is on (`DOWNLOAD_URL_REFRESHER`); a URL that is still expired, a 4xx answer (404, 403, 410, ...) or a file over
 * `DOWNLOAD_MAX_BYTES` is a `PermanentHandlerError`: no later run can fix them. Network errors and
 * 408/429/5xx answers are tried {@link DOWNLOAD_TRIES} times within the run, then fail it with a
 * plain `Error` so the framework retries it later. Files are written to a `.part` name first and
 * renamed when complete, so a final name always holds a whole file.
 *
 * Constructible without Nest: `new DownloadOutputsHandler(config, new StoredFileRepository(dataSource))`.
 */
@Injectable()
export class DownloadOutputsHandler {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly files: StoredFileRepository,
    @Optional() @Inject(DOWNLOAD_URL_REFRESHER) private readonly refresher: DownloadUrlRefresher | null = null,
  ) {}

  /** Stores every output of a completed job; see the class. */
  @OnMagicHourEvent('video.completed', 'image.completed', 'audio.completed')
  async store(event: MagicHourEvent, _job: JobResponse, context: HandlerContext): Promise<void> {
    // No directory means the handler is off; the framework should not run it then, but be harmless.
    if (this.config.downloadDir === null) return;
    const downloads = event.payload.downloads ?? [];
    if (downloads.length === 0) return;
    const directory = jobDirectory(resolve(this.config.downloadDir), event.projectId);

    // Each output is tried even when an earlier one failed: one expired URL must not keep the others
    // from being stored. The run fails afterwards if any did.
    const failures: Error[] = [];
    for (const [index, download] of downloads.entries()) {
      try {
        await this.storeOne(event.projectId, directory, index, download, context);
      } catch (error) {
        // Once the run's time is up, the remaining downloads would only fail the same way.
        if (context.signal.aborted) throw error;
        failures.push(isErrorLike(error) ? (error as Error) : new Error(String(error)));
      }
    }
    if (failures.length === 1) throw failures[0];
    if (failures.length > 1) {
      const message = `${failures.length} of ${downloads.length} downloads failed: ${failures.map((e) => e.message).join('; ')}`;
      // Permanent only if every failure is: otherwise a later run may still store the rest.
      throw failures.every((e) => e instanceof PermanentHandlerError)
        ? new PermanentHandlerError(message, { cause: failures })
        : new Error(message, { cause: failures });
    }
  }

  private async storeOne(
    jobId: string,
    directory: string,
    index: number,
    download: { url: string; expires_at?: string | null },
    context: HandlerContext,
  ): Promise<void> {
    const existing = await this.files.find(jobId, download.url);
    if (existing !== null && (await sizeOnDisk(existing.path)) === existing.bytes) {
      context.logger.debug(`Output ${index} of job ${jobId} is already stored as ${existing.path}`);
      return;
    }

    let { url } = download;
    let location = parseUrl(url);
    let shown = `${location.origin}${location.pathname}`; // the query of a signed URL is a credential: never log it
    if (expired(download.expires_at ?? null)) {
      url = await this.freshUrl(jobId, index, shown, download.expires_at!, context);
      location = parseUrl(url);
      shown = `${location.origin}${location.pathname}`;
    }

    const target = join(directory, `${index}-${fileNameOf(location)}`);
    const { part, ...written } = await this.downloadWithTries(url, shown, target, context);
    try {
      // Renamed into place under the path's lock, so that retention cannot remove it before its row is new.
      await this.files.record({ jobId, url, path: target, ...written }, () => rename(part, target));
    } catch (error) {
      await rm(part, { force: true });
      throw error;
    }
    context.logger.log(`Stored output ${index} of job ${jobId} as ${target} (${written.bytes} bytes, sha256 ${written.sha256})`);
  }

  /**
   * A fresh URL for an expired output, from Magic Hour's API. Without reconciliation, or when the API
   * lists no fresh output at that place, the output is lost for good (a `PermanentHandlerError`); when
   * the API cannot answer now, the run fails and is retried later.
   */
  private async freshUrl(jobId: string, index: number, shown: string, expiresAt: string, context: HandlerContext): Promise<string> {
    const gone = `Output ${index} of job ${jobId} (${shown}) expired at ${expiresAt}`;
    if (!this.refresher?.available) throw new PermanentHandlerError(gone);
    let fresh;
    try {
      fresh = await this.refresher.refresh(jobId);
    } catch (error) {
      throw new Error(`${gone}; fresh URLs could not be read from Magic Hour's API now: ${(error as Error).message}`, { cause: error });
    }
    const replacement = fresh[index];
    if (!replacement || expired(replacement.expiresAt))
      throw new PermanentHandlerError(`${gone}, and Magic Hour's API lists no fresh URL for it`);
    context.logger.log(`Output ${index} of job ${jobId} had expired; using the fresh URL from Magic Hour's API`);
    return replacement.url;
  }

  private async downloadWithTries(url: string, shown: string, target: string, context: HandlerContext): Promise<WrittenFile> {
    for (let tried = 1; ; tried++) {
      try {
        return await this.downloadOnce(url, shown, target, context.signal);
      } catch (error) {
        if (!(error instanceof TransientDownloadError)) throw error;
        if (tried >= DOWNLOAD_TRIES) throw new Error(`${error.message} (tried ${tried} times)`, { cause: error });
        const delay = DOWNLOAD_BACKOFF_MS[Math.min(tried, DOWNLOAD_BACKOFF_MS.length) - 1];
        context.logger.warn(`${error.message}; trying again in ${delay} ms`);
        try {
          await sleep(delay, undefined, { signal: context.signal });
        } catch {
          throw abortedError(shown, context.signal);
        }
      }
    }
  }

  /** One fetch of `url` into `target`; a failure that another try may fix is a `TransientDownloadError`. */
  private async downloadOnce(url: string, shown: string, target: string, signal: AbortSignal): Promise<WrittenFile> {
    const limit = this.config.downloadMaxBytes;
    let response: Response;
    try {
      response = await fetch(url, { signal });
    } catch (error) {
      throw signal.aborted
        ? abortedError(shown, signal)
        : new TransientDownloadError(`Could not fetch ${shown}: ${describe(error)}`, { cause: error });
    }
    // Locked at once so that every failure below can release the connection through it. A fetch body
    // yields bytes (the Fetch standard), which undici's `ReadableStream` type leaves as `any`.
    const reader = (response.body as ReadableStream<Uint8Array> | null)?.getReader();
    const part = `${target}.${randomBytes(4).toString('hex')}.part`;
    let partCreated = false;
    try {
      if (!response.ok) throw statusError(response.status, shown);
      const declared = response.headers.get('content-length');
      if (declared !== null && Number(declared) > limit) {
        throw new PermanentHandlerError(`${shown} is ${declared} bytes, over the ${limit}-byte limit (DOWNLOAD_MAX_BYTES)`);
      }

      await mkdir(dirname(target), { recursive: true });
      // A name of its own per try: two runs storing the same output at once (a replay during a retry)
      // must not write into one file; the last rename wins with a whole file either way.
      const file = await open(part, 'wx');
      partCreated = true;
      const hash = createHash('sha256');
      let bytes = 0;
      try {
        // No reader for a body-less answer (say, a 204): the file is then empty.
        while (reader !== undefined) {
          const chunk = await reader.read().catch((error: unknown) => {
            throw signal.aborted
              ? abortedError(shown, signal)
              : new TransientDownloadError(`Download of ${shown} broke off after ${bytes} bytes: ${describe(error)}`, { cause: error });
          });
          if (chunk.done) break;
          bytes += chunk.value.byteLength;
          // Checked as bytes arrive too: the length may be absent (chunked) or understated.
          if (bytes > limit) throw new PermanentHandlerError(`${shown} is over the ${limit}-byte limit (DOWNLOAD_MAX_BYTES)`);
          hash.update(chunk.value);
          await file.write(chunk.value);
        }
        // On disk before it is recorded as stored: a crash must not leave a row naming a short file.
        await file.sync();
      } finally {
        await file.close();
      }
      return { bytes, sha256: hash.digest('hex'), part };
    } catch (error) {
      // Releases the connection (a refused or oversize body is never read to its end).
      await reader?.cancel().catch(() => undefined);
      if (partCreated) await rm(part, { force: true });
      throw error;
    }
  }
}

/**
 * The job's directory under `root`. The id comes from outside: anything but `[A-Za-z0-9._-]` is
 * replaced, and a replaced or overlong id gets a digest of the original so two ids cannot share one.
 */
function jobDirectory(root: string, jobId: string): string {
  let name = jobId.replace(UNSAFE_NAME_CHARACTERS, '_');
  if (name !== jobId || name.length > MAX_NAME_LENGTH) {
    name = `${name.slice(0, MAX_NAME_LENGTH)}-${createHash('sha256').update(jobId).digest('hex').slice(0, 16)}`;
  }
  const directory = join(root, name);
  if (name === '' || name === '.' || name === '..' || dirname(directory) !== root) {
    throw new PermanentHandlerError(`Job id ${JSON.stringify(jobId)} cannot name a directory`);
  }
  return directory;
}

/** The last segment of the URL's path as a safe file name (`[A-Za-z0-9._-]`, not hidden), or `output`. */
function fileNameOf(location: URL): string {
  const segment =
    location.pathname
      .split('/')
      .filter((part) => part.length > 0)
      .pop() ?? '';
  let decoded = segment;
  try {
    decoded = decodeURIComponent(segment);
  } catch {
    // A malformed escape: keep the raw segment, which is sanitised below anyway.
  }
  // Keeps the end of a long name, where its extension is.
  const name = decoded.replace(UNSAFE_NAME_CHARACTERS, '_').replace(/^\.+/, '').slice(-MAX_NAME_LENGTH);
  return /[A-Za-z0-9]/.test(name) ? name : 'output';
}

function parseUrl(url: string): URL {
  let location: URL;
  try {
    location = new URL(url);
  } catch {
    throw new PermanentHandlerError(`Not a URL: ${JSON.stringify(url.slice(0, 200))}`);
  }
  if (location.protocol !== 'https:' && location.protocol !== 'http:') {
    throw new PermanentHandlerError(`Not an http(s) URL: ${location.protocol}`);
  }
  return location;
}

/** What a non-2xx answer means for retrying it. */
function statusError(status: number, shown: string): Error {
  const message = `${shown} answered HTTP ${status}`;
  if (status === 408 || status === 429 || status >= 500) return new TransientDownloadError(message);
  // 403, 404 and 410 are how storage says a signed URL expired or the file is gone; no 4xx improves later.
  if (status >= 400) return new PermanentHandlerError(message);
  return new Error(message);
}

function abortedError(shown: string, signal: AbortSignal): Error {
  return new Error(`Download of ${shown} aborted: ${describe(signal.reason)}`, { cause: signal.reason });
}

/** Whether `value` is an error, from this realm or another (fs and fetch errors under Jest are not `instanceof Error`). */
function isErrorLike(value: unknown): boolean {
  return typeof value === 'object' && value !== null && typeof (value as { message?: unknown }).message === 'string';
}

/** An error's message with its cause's code (undici reports `fetch failed` and hides ECONNRESET there). */
function describe(error: unknown): string {
  if (!isErrorLike(error)) return String(error);
  const { message, cause } = error as { message: string; cause?: { code?: unknown; message?: unknown } | null };
  const detail = cause?.code ?? cause?.message;
  return typeof detail === 'string' || typeof detail === 'number' ? `${message} (${detail})` : message;
}

/** The size of the regular file at `path`, or `null` if there is none. */
async function sizeOnDisk(path: string): Promise<number | null> {
  const stats = await stat(path).catch(() => null);
  return stats?.isFile() ? stats.size : null;
}

/** Whether a download's `expires_at` has passed. */
function expired(expiresAt: string | null): boolean {
  return expiresAt !== null && Date.parse(expiresAt) <= Date.now();
}
