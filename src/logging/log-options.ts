import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Options as HttpLoggerOptions } from 'pino-http';
import { hostname } from 'node:os';
import { pino, stdTimeFunctions, type DestinationStream, type Level, type Logger, type LoggerOptions } from 'pino';
import pretty from 'pino-pretty';
import type { AppConfig } from '../config/app.config.js';
import { SIGNATURE_HEADER } from '../magic-hour/webhook-signature.js';

/** What redacted values are replaced with. */
export const REDACTED = '[Redacted]';

// Field names whose value is a credential wherever they appear (up to two levels down).
const SECRET_FIELDS = [
  'secret',
  'secrets',
  'webhookSecret',
  'webhookSecrets',
  'apiKey',
  'apiKeys',
  'token',
  'metricsToken',
  'password',
  'authorization',
  'cookie',
  'signature',
];

/** Paths pino replaces with `[Redacted]` before a line is written. */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  `req.headers["${SIGNATURE_HEADER}"]`,
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
  ...SECRET_FIELDS.flatMap((field) => [field, `*.${field}`, `*.*.${field}`]),
];

// Requests that are polled (health checks, scrapes) or static (the docs UI) get a request id but no
// "request completed" line each.
const UNLOGGED_PATHS = /^\/(health|metrics|docs)(?:[/?-]|$)/;

/**
 * The service's root pino logger: `LOG_LEVEL`, redaction, and the format: JSON lines, or pino-pretty's
 * coloured text when `LOG_FORMAT=pretty` (or, with no `LOG_FORMAT`, outside production on a terminal).
 * @param destination where lines go instead of stdout (the tests read them)
 */
export function createRootLogger(config: AppConfig, destination?: DestinationStream): Logger {
  const format = config.logFormat ?? (!config.production && process.stdout.isTTY ? 'pretty' : 'json');
  const options: LoggerOptions = {
    level: config.logLevel,
    redact: { paths: REDACT_PATHS, censor: REDACTED },
    base: { pid: process.pid, hostname: hostname(), role: config.role },
    // `"level":"warn"` and an ISO time read better in a log store than pino's numbers.
    formatters: { level: (label) => ({ level: label }) },
    timestamp: stdTimeFunctions.isoTime,
  };
  // Synchronous writes to stdout (pino's default), so that a crash's last lines are not lost.
  if (format === 'json') return destination ? pino(options, destination) : pino(options);
  const stream = pretty({
    destination: destination ?? 1,
    sync: true,
    colorize: destination === undefined && process.stdout.isTTY === true,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname,role,context,req,res',
    messageFormat: '{if context}[{context}] {end}{msg}',
  });
  return pino(options, stream);
}

/** The level of a REST request's "request completed" line: by its status. */
function levelOf(_request: IncomingMessage, response: ServerResponse, error?: Error): Level {
  if (error || response.statusCode >= 500) return 'error';
  return response.statusCode >= 400 ? 'warn' : 'info';
}

/**
 * pino-http's settings for the REST routes: the request id `RequestIdMiddleware` gave the request, one
 * line per request at info (warn for 4xx, error for 5xx) except polled paths, and request-scoped lines
 * that carry only the request id, not the whole request again.
 */
export function httpLoggerOptions(root: Logger): HttpLoggerOptions {
  return {
    logger: root,
    genReqId: (request) => (request as IncomingMessage & { id?: string }).id ?? '',
    customLogLevel: levelOf,
    autoLogging: { ignore: (request) => UNLOGGED_PATHS.test(request.url ?? '') },
    quietReqLogger: true,
    customSuccessMessage: (request, response, ms) => `${request.method} ${request.url} ${response.statusCode} in ${ms} ms`,
    customErrorMessage: (request, response) => `${request.method} ${request.url} ${response.statusCode}`,
  };
}
