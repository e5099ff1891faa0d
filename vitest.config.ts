import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    exclude: ['node_modules/**', '.camfleet/**', 'dist/**'],
    globalSetup: ['test/global-setup.ts'],
    // SEED / FC_PATH replay a property's counterexample (test/property-runs.ts).
    setupFiles: ['test/fast-check-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // CI (.ci/run) reads the JSON report to print its "N passed, N failed" line.
    reporters: process.env.CI ? ['default', 'json'] : ['default'],
    outputFile: { json: process.env.CAMFLEET_TEST_RESULTS ?? '.vitest-results.json' },
  },
});
