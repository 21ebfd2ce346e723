import { Inject, Injectable, type LoggerService, Scope } from '@nestjs/common';
import type { Level, Logger } from 'pino';
import { currentLogBindings, runWithLogBindings, type LogBindings } from './log-context.js';

/** Injection token of the process's root logger: pino in the service, `nestLogSink` in a host app. */
export const ROOT_LOGGER = Symbol('ROOT_LOGGER');

/** What `PinoLogger` writes through: the part of a pino `Logger` it uses. */
export interface LogSink {
  isLevelEnabled(level: Level): boolean;
  trace(fields: object, message?: string): void;
  debug(fields: object, message?: string): void;
  info(fields: object, message?: string): void;
  warn(fields: object, message?: string): void;
  error(fields: object, message?: string): void;
  fatal(fields: object, message?: string): void;
}

/** Writes one line through `root` with the context and the bindings in force. */
function write(root: LogSink, level: Level, context: string | undefined, fields: object | undefined, message: string | undefined): void {
  const bound = currentLogBindings();
  const line = context === undefined ? { ...bound, ...fields } : { ...bound, context, ...fields };
  root[level](line, message);
}

/**
 * A pino logger for services that log structured fields: `log.debug({ eventKey }, 'message')`. Each
 * injection gets its own instance, so `setContext` names the class its lines come from.
 */
@Injectable({ scope: Scope.TRANSIENT })
export class PinoLogger {
  private context?: string;

  constructor(@Inject(ROOT_LOGGER) readonly logger: LogSink) {}

  /** Names the component every line of this instance comes from (`context` field). */
  setContext(context: string): void {
    this.context = context;
  }

  debug(fields: object, message?: string): void {
    if (this.logger.isLevelEnabled('debug')) write(this.logger, 'debug', this.context, fields, message);
  }

  info(fields: object, message?: string): void {
    if (this.logger.isLevelEnabled('info')) write(this.logger, 'info', this.context, fields, message);
  }

  warn(fields: object, message?: string): void {
    if (this.logger.isLevelEnabled('warn')) write(this.logger, 'warn', this.context, fields, message);
  }

  error(fields: object, message?: string): void {
    if (this.logger.isLevelEnabled('error')) write(this.logger, 'error', this.context, fields, message);
  }

  /** Runs `work` so that every line logged inside it, by any logger, carries `bindings`. */
  runInContext<T>(work: () => T, options: { bindings: LogBindings }): T {
    return runWithLogBindings(options.bindings, work);
  }
}

const NEST_LEVELS: Record<'verbose' | 'debug' | 'log' | 'warn' | 'error' | 'fatal', Level> = {
  verbose: 'trace',
  debug: 'debug',
  log: 'info',
  warn: 'warn',
  error: 'error',
  fatal: 'fatal',
};

/**
 * Nest's `LoggerService` over pino, installed with `Logger.overrideLogger`: every `new Logger(name)` in
 * the app (and Nest's own lines) is written by pino as JSON, with `context` and the bindings in force.
 * Nest passes the context as the last argument and, for `error`, the stack before it.
 */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly root: Logger) {}

  verbose(message: unknown, ...params: unknown[]): void {
    this.call('verbose', message, params);
  }
  debug(message: unknown, ...params: unknown[]): void {
    this.call('debug', message, params);
  }
  log(message: unknown, ...params: unknown[]): void {
    this.call('log', message, params);
  }
  warn(message: unknown, ...params: unknown[]): void {
    this.call('warn', message, params);
  }
  error(message: unknown, ...params: unknown[]): void {
    this.call('error', message, params);
  }
  fatal(message: unknown, ...params: unknown[]): void {
    this.call('fatal', message, params);
  }

  private call(nestLevel: keyof typeof NEST_LEVELS, message: unknown, params: unknown[]): void {
    const level = NEST_LEVELS[nestLevel];
    if (!this.root.isLevelEnabled(level)) return;
    const rest = [...params];
    const context = rest.length > 0 && typeof rest[rest.length - 1] === 'string' ? (rest.pop() as string) : undefined;
    const fields: Record<string, unknown> = {};
    let text: string | undefined;
    if (message instanceof Error) {
      fields.err = message;
      text = message.message;
    } else if (typeof message === 'object' && message !== null) {
      Object.assign(fields, message);
      if (typeof rest[0] === 'string') text = rest.shift() as string;
    } else {
      text = String(message);
    }
    // Nest's `logger.error(message, stack)`: the stack comes as the first extra argument.
    if (nestLevel === 'error' && typeof rest[0] === 'string') fields.stack = rest.shift();
    write(this.root, level, context, fields, text);
  }
}
