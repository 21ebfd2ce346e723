import { afterEach, describe, expect, it } from '@jest/globals';
import { Logger, type LoggerService } from '@nestjs/common';
import { nestLogSink } from './nest-log-sink.js';

describe(nestLogSink.name, () => {
  const lines: Array<{ level: string; message: unknown; params: unknown[] }> = [];
  const record =
    (level: string) =>
    (message: unknown, ...params: unknown[]) =>
      void lines.push({ level, message, params });
  const capture: LoggerService = {
    log: record('log'),
    warn: record('warn'),
    error: record('error'),
    debug: record('debug'),
    verbose: record('verbose'),
  };

  afterEach(() => {
    lines.length = 0;
    // The test setup's own: errors only.
    Logger.overrideLogger(['error']);
  });

  it("writes a line through Nest's Logger with its context, message and fields, and skips levels below its own", () => {
    Logger.overrideLogger(capture);
    const sink = nestLogSink('info');
    expect(sink.isLevelEnabled('debug')).toBe(false);
    expect(sink.isLevelEnabled('warn')).toBe(true);
    sink.debug({ context: 'Intake', eventKey: 'video.completed:x' }, 'not written');
    sink.warn({ context: 'Intake', eventKey: 'video.completed:x', outcome: 'quarantined', absent: undefined }, 'delivery');
    sink.error({ context: 'Worker', stack: 'Error: boom\n    at here', err: new Error('boom') }, 'failed');
    expect(lines).toEqual([
      { level: 'warn', message: 'delivery eventKey=video.completed:x outcome=quarantined', params: ['Intake'] },
      { level: 'error', message: 'failed err=boom', params: ['Error: boom\n    at here', 'Worker'] },
    ]);
  });
});
