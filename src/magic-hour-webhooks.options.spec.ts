import { describe, expect, it } from '@jest/globals';
import { defaultConfig } from './config/app.config.js';
import { resolveModuleConfig, structureOf } from './magic-hour-webhooks.options.js';

describe(resolveModuleConfig.name, () => {
  it('is the default configuration when nothing is given', () => {
    expect(resolveModuleConfig({}, {})).toEqual(defaultConfig());
  });

  it('takes every setting given and keeps the default of one given as undefined', () => {
    const config = resolveModuleConfig(
      {},
      { webhookSecrets: ['s1', 's2'], redisUrl: 'redis://cache:6380', handlerAttempts: 2, queuePrefix: undefined },
    );
    expect(config).toEqual({ ...defaultConfig(), webhookSecrets: ['s1', 's2'], redisUrl: 'redis://cache:6380', handlerAttempts: 2 });
  });

  it('takes role and downloadDir from the structure, and no structure option becomes a setting', () => {
    const options = { role: 'worker' as const, downloadDir: '/data', webhookPath: 'hooks', restApi: false, apiKeys: ['k'] };
    const config = resolveModuleConfig(structureOf(options), options);
    expect(config).toEqual({ ...defaultConfig(), role: 'worker', downloadDir: '/data', apiKeys: ['k'] });
    expect(structureOf(options)).toEqual({ role: 'worker', downloadDir: '/data', webhookPath: 'hooks', restApi: false });
  });

  it('refuses settings the service would refuse, naming each: an empty or misshaped secret, bad numbers', () => {
    const refusal = (settings: Parameters<typeof resolveModuleConfig>[1]) => {
      try {
        resolveModuleConfig({}, settings);
        return 'taken';
      } catch (error) {
        return (error as Error).message;
      }
    };
    // An empty secret would make every signature made with an empty key valid.
    expect(refusal({ webhookSecrets: [''] })).toMatch(/webhookSecrets must be a list of non-empty strings/);
    expect(refusal({ webhookSecrets: [undefined as unknown as string] })).toMatch(/webhookSecrets/);
    expect(refusal({ webhookSecrets: 'whsec_x' as unknown as string[] })).toMatch(/webhookSecrets/);
    expect(refusal({ apiKeys: 'k' as unknown as string[] })).toMatch(/apiKeys/);
    expect(refusal({ handlerAttempts: 0, eventRetentionDays: -1 })).toMatch(
      /handlerAttempts must be a positive number.*eventRetentionDays/,
    );
    expect(refusal({ queuePrefix: '' })).toMatch(/queuePrefix must be a non-empty string/);
    expect(refusal({ retentionIntervalSeconds: 10_000_000 })).toMatch(/retentionIntervalSeconds must be at most/);
    expect(refusal({ jobRetentionDays: 0 })).toMatch(/jobRetentionDays must be a positive number, or null/);
    expect(refusal({ redisSentinels: [{ host: 'a', port: 26379 }] })).toMatch(/go together/);
    const reconcile = {
      apiKey: 'k',
      apiUrl: 'https://api.magichour.ai',
      apiTimeoutMs: 1000,
      afterSeconds: 60,
      maxPerSecond: 0,
      intervalMs: 500,
    };
    expect(refusal({ reconcile })).toMatch(/reconcile.maxPerSecond must be a positive number/);
    expect(refusal({ reconcile: { ...reconcile, maxPerSecond: 2 }, webhookSecrets: ['s'], jobRetentionDays: 400 })).toBe('taken');
  });
});
