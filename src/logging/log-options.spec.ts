import { describe, expect, it } from '@jest/globals';
import { Writable } from 'node:stream';
import { buildConfig } from '../config/app.config.js';
import { validateEnv } from '../config/env.validation.js';
import { createRootLogger, REDACTED } from './log-options.js';

/** A stream that keeps what is written to it. */
function capture(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  return { stream, text: () => chunks.join('') };
}

const config = (env: Record<string, string>) => buildConfig(validateEnv(env));

describe(createRootLogger.name, () => {
  it('writes one JSON object a line, with the level as a word, at LOG_LEVEL and above', () => {
    const out = capture();
    const sut = createRootLogger(config({ LOG_FORMAT: 'json', LOG_LEVEL: 'warn', APP_ROLE: 'worker' }), out.stream);
    sut.info('not written');
    sut.warn({ eventKey: 'video.completed:c1' }, 'written');
    const lines = out.text().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0])).toMatchObject({ level: 'warn', role: 'worker', eventKey: 'video.completed:c1', msg: 'written' });
    expect(new Date(JSON.parse(lines[0]).time).toISOString()).toBe(JSON.parse(lines[0]).time);
  });

  it('redacts credentials in headers and in any secret or key field', () => {
    const out = capture();
    const sut = createRootLogger(config({ LOG_FORMAT: 'json' }), out.stream);
    sut.info(
      {
        req: {
          headers: {
            authorization: 'Bearer api-key-1',
            cookie: 'session=cookie-1',
            'magic-hour-event-signature': 'sig-1',
            'user-agent': 'kept',
          },
        },
        apiKey: 'api-key-2',
        config: { webhookSecrets: ['whsec-1'], apiKeys: ['api-key-3'], metricsToken: 'token-1' },
        handler: { options: { secret: 'whsec-2', password: 'pw-1' } },
      },
      'with credentials',
    );
    const text = out.text();
    for (const value of ['api-key-1', 'cookie-1', 'sig-1', 'api-key-2', 'whsec-1', 'api-key-3', 'token-1', 'whsec-2', 'pw-1']) {
      expect(text).not.toContain(value);
    }
    const line = JSON.parse(text);
    expect(line.req.headers).toEqual({
      authorization: REDACTED,
      cookie: REDACTED,
      'magic-hour-event-signature': REDACTED,
      'user-agent': 'kept',
    });
    expect(line.apiKey).toBe(REDACTED);
    expect(line.handler.options).toEqual({ secret: REDACTED, password: REDACTED });
  });

  it('writes readable text with LOG_FORMAT=pretty, still redacted', () => {
    const out = capture();
    const sut = createRootLogger(config({ LOG_FORMAT: 'pretty' }), out.stream);
    sut.child({ context: 'WebhookController' }).warn({ apiKey: 'api-key-9', eventKey: 'video.completed:c2' }, 'Webhook quarantined');
    const text = out.text();
    expect(text).toMatch(/^\[\d{2}:\d{2}:\d{2}\.\d{3}\] WARN: \[WebhookController\] Webhook quarantined\n/);
    expect(text).toContain('eventKey: "video.completed:c2"');
    expect(text).not.toContain('api-key-9');
    expect(() => JSON.parse(text)).toThrow();
  });
});
