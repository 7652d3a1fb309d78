import { defaultServerConditions, defineConfig } from 'vite';
import { defineConfig as defineVitestConfig, mergeConfig } from 'vitest/config';

/**
 * One vitest configuration for every project of the workspace.
 * Workspace packages are imported from their sources through the `@strm/source` export
 * condition, so no test needs a build. Each run also writes a JSON report that
 * `tools/dev/run.mjs` sums into the closing "N passed, N failed" line.
 */
export function vitestConfig(options: { testTimeout?: number; include?: string[] } = {}) {
  return mergeConfig(
    defineConfig({ ssr: { resolve: { conditions: ['@strm/source', ...defaultServerConditions] } } }),
    defineVitestConfig({
      test: {
        include: options.include ?? ['src/**/*.test.ts', 'test/**/*.test.ts'],
        environment: 'node',
        testTimeout: options.testTimeout ?? 10_000,
        reporters: ['default', 'json'],
        outputFile: { json: 'test-results/vitest.json' },
      },
    }),
  );
}
