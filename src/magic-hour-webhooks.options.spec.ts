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
});
