import { describe, expect, it } from '@jest/globals';
import { Readable } from 'node:stream';
import { commonOptions, numberFlag, rateFlag, UsageError, type CliIo } from './cli-options.js';
import { main } from './main.js';

/** Runs `mh` in-process with `env` and `stdin`, capturing what it prints. */
async function mh(argv: string[], env: Record<string, string> = {}, stdin = '') {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    stdout: { write: (chunk: string) => (stdout += chunk) },
    stderr: { write: (chunk: string) => (stderr += chunk) },
    stdin: Readable.from([Buffer.from(stdin)]),
    env,
  };
  const code = await main(argv, io);
  return { code, stdout, stderr };
}

describe('commonOptions', () => {
  it('defaults to a service started locally on port 3000, with no API key', () => {
    expect(commonOptions({}, {})).toEqual({
      url: 'http://localhost:3000/webhook',
      secret: 'whsec_test',
      apiUrl: 'http://localhost:3000/',
      apiKey: undefined,
    });
  });

  it("reads MH_* variables, else the service's own secret and keys (the first of each list)", () => {
    expect(
      commonOptions({}, { MAGIC_HOUR_WEBHOOK_SECRET: ' whsec_a , whsec_b', API_KEYS: 'key1,key2', MH_API_URL: 'http://api:4000' }),
    ).toEqual({ url: 'http://localhost:3000/webhook', secret: 'whsec_a', apiUrl: 'http://api:4000/', apiKey: 'key1' });
    expect(
      commonOptions(
        {},
        {
          MH_WEBHOOK_URL: 'https://hooks.example.com/mh',
          MH_WEBHOOK_SECRET: 'whsec_mh',
          MAGIC_HOUR_WEBHOOK_SECRET: 'whsec_service',
          MH_API_KEY: 'mh-key',
          API_KEYS: 'service-key',
        },
      ),
    ).toMatchObject({ url: 'https://hooks.example.com/mh', secret: 'whsec_mh', apiKey: 'mh-key' });
  });

  it('lets flags win over the environment', () => {
    const env = { MH_WEBHOOK_URL: 'http://env/webhook', MH_WEBHOOK_SECRET: 'env', MH_API_URL: 'http://env', MH_API_KEY: 'env' };
    expect(commonOptions({ url: 'http://flag/webhook', secret: 'flag', 'api-url': 'http://flag:1', 'api-key': 'flag' }, env)).toEqual({
      url: 'http://flag/webhook',
      secret: 'flag',
      apiUrl: 'http://flag:1/',
      apiKey: 'flag',
    });
  });

  it('refuses a URL that is not http(s)', () => {
    expect(() => commonOptions({ url: 'localhost:3000' }, {})).toThrow(UsageError);
    expect(() => commonOptions({}, { MH_API_URL: 'ftp://host' })).toThrow('--api-url must be an http(s) URL');
  });
});

describe('numberFlag and rateFlag', () => {
  it('uses the fallback when absent and parses what is given', () => {
    expect(numberFlag('jobs', undefined, 20, { min: 1, max: 100, integer: true })).toBe(20);
    expect(numberFlag('jobs', '42', 20, { min: 1, max: 100, integer: true })).toBe(42);
    expect(rateFlag('duplicates', '0.25', 0)).toBe(0.25);
  });

  it.each([
    ['jobs', '', { min: 1, max: 100, integer: true }],
    ['jobs', '1.5', { min: 1, max: 100, integer: true }],
    ['jobs', '0', { min: 1, max: 100, integer: true }],
    ['jobs', 'ten', { min: 1, max: 100, integer: true }],
    ['rate', '1.1', { min: 0, max: 1 }],
    ['rate', 'NaN', { min: 0, max: 1 }],
  ])('refuses --%s %p', (flag, raw, range) => {
    expect(() => numberFlag(flag, raw, 1, range)).toThrow(`--${flag} must be`);
  });
});

describe('mh (argument handling)', () => {
  it('prints the tool help, listing every command, for --help', async () => {
    const { code, stdout } = await mh(['--help']);
    expect(code).toBe(0);
    for (const command of ['send', 'simulate', 'sign', 'reconcile']) expect(stdout).toContain(`  ${command} `);
    expect(stdout).toContain('MH_WEBHOOK_URL');
  });

  it.each(['send', 'simulate', 'sign', 'reconcile'])("prints %s's help with the common flags and their variables", async (command) => {
    for (const argv of [
      [command, '--help'],
      [command, '-h'],
      ['help', command],
    ]) {
      const { code, stdout } = await mh(argv);
      expect(code).toBe(0);
      expect(stdout).toContain(`Usage: mh ${command}`);
      for (const text of [
        '--url',
        'MH_WEBHOOK_URL',
        '--secret',
        'MH_WEBHOOK_SECRET',
        '--api-url',
        'MH_API_URL',
        '--api-key',
        'MH_API_KEY',
      ]) {
        expect(stdout).toContain(text);
      }
    }
  });

  it('documents every simulate flag in its help', async () => {
    const { stdout } = await mh(['simulate', '--help']);
    for (const flag of [
      '--jobs',
      '--concurrency',
      '--failure-rate',
      '--duplicates',
      '--out-of-order',
      '--skip-started',
      '--lose',
      '--cancel',
      '--fake-api-port',
      '--fake-api-host',
      '--fake-api-key',
      'MAGIC_HOUR_API_URL',
      'RECONCILE_AFTER_SECONDS',
      '--max-retries',
      '--backoff-base-ms',
      '--backoff-cap-ms',
      '--timeout-ms',
      '--check-timeout-ms',
      '--no-check',
      '--seed',
      '--json',
    ]) {
      expect(stdout).toContain(flag);
    }
  });

  it.each([
    [['nope'], "unknown command 'nope'"],
    [['send'], 'name the event type'],
    [['send', 'video.finished'], "unknown event type 'video.finished'"],
    [['send', 'video.started', 'extra'], "unexpected argument 'extra'"],
    [['send', 'video.started', '--colour', 'red'], "Unknown option '--colour'"],
    [['simulate', '--jobs'], "Option '--jobs <value>' argument missing"],
    [['simulate', '--failure-rate', '2'], '--failure-rate must be a number from 0 to 1'],
    [['simulate', '--url', 'not a url'], '--url must be an http(s) URL'],
    [['simulate', '--lose', '0.2'], '--lose and --cancel need --fake-api-port'],
    [['simulate', '--cancel', '0.1', '--lose', '0'], '--lose and --cancel need --fake-api-port'],
    [['simulate', '--lose', '1.5', '--fake-api-port', '4010'], '--lose must be a number from 0 to 1'],
    [['simulate', '--fake-api-port', '70000'], '--fake-api-port must be a whole number from 1 to 65535'],
    [['sign', '--timestamp', '-5'], '--timestamp'],
    [['reconcile', '--job', 'a b'], '--job must be 1 to 200 printable ASCII characters'],
    [['reconcile', '--timeout-ms', 'soon'], '--timeout-ms must be a whole number'],
  ])('answers %p with exit code 2 and a reason', async (argv, reason) => {
    const { code, stderr, stdout } = await mh(argv);
    expect(code).toBe(2);
    expect(stderr).toContain(reason);
    expect(stdout).toBe('');
  });

  it('prints the help on stderr with exit code 2 when no command is given', async () => {
    const { code, stderr } = await mh([]);
    expect(code).toBe(2);
    expect(stderr).toContain('Usage: mh <command>');
  });
});
