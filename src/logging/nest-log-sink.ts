import { Logger, type LogLevel as NestLogLevel } from '@nestjs/common';
import type { Level } from 'pino';
import type { LogLevel } from '../config/env.validation.js';
import type { LogSink } from './pino-logger.js';

/** pino's levels, least severe first, as Nest's `Logger` names them. */
const NEST_LEVEL: Record<Level, NestLogLevel> = {
  trace: 'verbose',
  debug: 'debug',
  info: 'log',
  warn: 'warn',
  error: 'error',
  fatal: 'fatal',
};
const ORDER: readonly string[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];

/** A field's value as text: an error by its message, anything else as JSON. */
const text = (value: unknown): string =>
  value instanceof Error ? value.message : typeof value === 'string' ? value : JSON.stringify(value);

/**
 * A `LogSink` over Nest's `Logger`, for a host app: each line goes to whatever logger the host installed
 * (Nest's console logger by default), as its message followed by its fields, under its `context`.
 * Lines less severe than `level` are skipped before they are built.
 */
export function nestLogSink(level: LogLevel): LogSink {
  const threshold = ORDER.indexOf(level);
  const enabled = (candidate: Level) => ORDER.indexOf(candidate) >= threshold;
  const write = (candidate: Level) => (fields: object, message?: string) => {
    if (!enabled(candidate)) return;
    const { context, stack, ...rest } = fields as Record<string, unknown>;
    const details = Object.entries(rest)
      .filter(([, value]) => value !== undefined)
      .map(([key, value]) => `${key}=${text(value)}`)
      .join(' ');
    const line = [message, details].filter((part) => part).join(' ');
    const logger = new Logger(typeof context === 'string' ? context : 'MagicHourWebhooks');
    if (candidate === 'error' && typeof stack === 'string') logger.error(line, stack);
    else logger[NEST_LEVEL[candidate]](line);
  };
  return {
    isLevelEnabled: enabled,
    trace: write('trace'),
    debug: write('debug'),
    info: write('info'),
    warn: write('warn'),
    error: write('error'),
    fatal: write('fatal'),
  };
}
