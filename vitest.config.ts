import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Every test file gets its own process: servers, the global OTel API and
    // prom-client registries never leak between scenarios.
    pool: 'forks',
    // Memory-bound tests call gc() so they measure retained memory, not garbage awaiting collection.
    execArgv: ['--expose-gc'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    teardownTimeout: 20_000,
  },
});
