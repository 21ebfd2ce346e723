import { parseArgs, type ParseArgsConfig } from 'node:util';

/**
 * `mh`'s own option layer. The service reads its environment in exactly one place (src/config); `mh` is
 * a separate program run from a shell, and this file is its one place for the environment: every flag
 * that has a variable is resolved here as flag, then variable, then a default that suits a service
 * started locally with `npm start`.
 */

/** Where a command writes and reads; the real process's streams, or a test's. */
export interface CliIo {
  stdout: { write(chunk: string): unknown };
  stderr: { write(chunk: string): unknown };
  stdin: AsyncIterable<Buffer | string> & { isTTY?: boolean };
  env: Readonly<Record<string, string | undefined>>;
}

/** A mistake in how `mh` was called: printed with a pointer to `--help`, exit code 2. */
export class UsageError extends Error {}

/** Where a service started locally (`npm start`, port 3000) takes webhooks. */
export const DEFAULT_WEBHOOK_URL = 'http://localhost:3000/webhook';
/** Where a service started locally answers `GET /jobs/:id`. */
export const DEFAULT_API_URL = 'http://localhost:3000';
/** The secret used in the README's examples; the service accepts any signature while it has none. */
export const DEFAULT_SECRET = 'whsec_test';

/** The options every command shares. */
export interface CommonOptions {
  /** Where events are POSTed. */
  url: string;
  /** The webhook secret events are signed with. */
  secret: string;
  /** The service's base URL, for `GET /jobs/:id`. */
  apiUrl: string;
  /** Bearer key for the API; none when the service has no `API_KEYS`. */
  apiKey: string | undefined;
}

type OptionSpecs = NonNullable<ParseArgsConfig['options']>;

/** The flags of the common options, for `parseArgs`. */
export const COMMON_FLAGS = {
  url: { type: 'string' },
  secret: { type: 'string' },
  'api-url': { type: 'string' },
  'api-key': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies OptionSpecs;

/** The common options' lines in every `--help`. */
export const COMMON_HELP = `Common options (flag, then environment variable, then default):
  --url <url>        webhook URL events are POSTed to
                     MH_WEBHOOK_URL, default ${DEFAULT_WEBHOOK_URL}
  --secret <secret>  webhook secret to sign with
                     MH_WEBHOOK_SECRET, else the first of MAGIC_HOUR_WEBHOOK_SECRET, default ${DEFAULT_SECRET}
  --api-url <url>    the service's base URL, for GET /jobs/:id
                     MH_API_URL, default ${DEFAULT_API_URL}
  --api-key <key>    Bearer key for GET /jobs/:id
                     MH_API_KEY, else the first of API_KEYS, default none
  -h, --help         show this help`;

const firstOfList = (value: string | undefined): string | undefined =>
  value
    ?.split(',')
    .map((item) => item.trim())
    .find((item) => item.length > 0);

const nonEmpty = (value: string | undefined): string | undefined => (value && value.trim() ? value.trim() : undefined);

/** Resolves the common options from the parsed flags and the environment. */
export function commonOptions(
  values: { url?: string; secret?: string; 'api-url'?: string; 'api-key'?: string },
  env: CliIo['env'],
): CommonOptions {
  const url = values.url ?? nonEmpty(env.MH_WEBHOOK_URL) ?? DEFAULT_WEBHOOK_URL;
  const apiUrl = values['api-url'] ?? nonEmpty(env.MH_API_URL) ?? DEFAULT_API_URL;
  return {
    url: httpUrl('--url', url),
    secret: values.secret ?? nonEmpty(env.MH_WEBHOOK_SECRET) ?? firstOfList(env.MAGIC_HOUR_WEBHOOK_SECRET) ?? DEFAULT_SECRET,
    apiUrl: httpUrl('--api-url', apiUrl),
    apiKey: values['api-key'] ?? nonEmpty(env.MH_API_KEY) ?? firstOfList(env.API_KEYS),
  };
}

/** `value` as an http(s) URL; a `UsageError` naming `flag` otherwise. */
export function httpUrl(flag: string, value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`${flag} must be an http(s) URL, got '${value}'`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`${flag} must be an http(s) URL, got '${value}'`);
  }
  return url.toString();
}

/** `util.parseArgs`, strict, with its errors turned into usage errors. */
export function parseFlags<T extends OptionSpecs>(args: readonly string[], options: T, positionals = 0) {
  let parsed;
  try {
    parsed = parseArgs({ args: [...args], options, allowPositionals: positionals > 0, strict: true });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  if (parsed.positionals.length > positionals) {
    throw new UsageError(`unexpected argument '${parsed.positionals[positionals]}'`);
  }
  return parsed;
}

/** A number flag: `fallback` when absent, else a finite number within `min`..`max` (whole when `integer`). */
export function numberFlag(
  flag: string,
  raw: string | undefined,
  fallback: number,
  range: { min: number; max: number; integer?: boolean },
): number {
  if (raw === undefined) return fallback;
  const value = raw.trim() === '' ? NaN : Number(raw);
  const kind = range.integer ? 'a whole number' : 'a number';
  if (!Number.isFinite(value) || (range.integer && !Number.isInteger(value)) || value < range.min || value > range.max) {
    throw new UsageError(`--${flag} must be ${kind} from ${range.min} to ${range.max}, got '${raw}'`);
  }
  return value;
}

/** A probability flag, 0 to 1. */
export const rateFlag = (flag: string, raw: string | undefined, fallback: number): number =>
  numberFlag(flag, raw, fallback, { min: 0, max: 1 });

/** Reads all of stdin as bytes, exactly as given. */
export async function readAll(stdin: CliIo['stdin']): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk);
  return Buffer.concat(chunks);
}
