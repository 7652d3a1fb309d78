import { defineConfig, type Options } from 'tsup';

/** The build of every published package: ESM + CJS with their own declaration files. */
export function tsupConfig(overrides: Options = {}) {
  return defineConfig({
    entry: ['src/index.ts'],
    format: ['esm', 'cjs'],
    dts: true,
    clean: true,
    target: 'node20',
    platform: 'node',
    splitting: false,
    sourcemap: false,
    ...overrides,
  });
}
