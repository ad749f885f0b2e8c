import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // End-to-end tests start real Envoys on fixed-free ports; two cores, so keep files in parallel low.
    maxWorkers: 2,
    globalSetup: ['test/global-setup.ts'],
  },
});
