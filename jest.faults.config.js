import base from './jest.config.js';

/**
 * The fault suite (`npm run test:faults`): the service as real processes (`dist/src/main.js`, built
 * first) against the real Postgres and Redis, with faults injected. Apart from `npm test` because it
 * needs the build and takes a few minutes.
 * @type {import('jest').Config}
 */
export default {
  ...base,
  roots: ['<rootDir>/test/faults'],
  testMatch: ['**/*.fault-spec.ts'],
  testTimeout: 120000,
};
