import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Wasm runtimes and onnxruntime are heavy; two cores, so two workers.
    pool: 'forks',
    maxWorkers: 2,
    reporters: ['default', './test/support/plain-summary-reporter.ts'],
  },
});
