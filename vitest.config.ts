import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // End-to-end tests start real Envoys on free ports; two cores, so keep files in parallel low.
    maxWorkers: 2,
    globalSetup: ['test/global-setup.ts'],
    projects: [
      { extends: true, test: { name: 'ferry', include: ['test/**/*.test.ts'] } },
      // The Knative behaviours again with gateways on state-of-the-world ADS (the default is delta).
      { extends: true, test: { name: 'sotw', include: ['test/e2e/knative/**/*.test.ts'], env: { FERRY_TEST_XDS_MODE: 'sotw' } } },
    ],
  },
});
