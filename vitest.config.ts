import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/helpers/influxdb-global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // The machine has two cores and the integration tests start real servers.
    maxWorkers: 2,
    reporters: ['default'],
  },
});
