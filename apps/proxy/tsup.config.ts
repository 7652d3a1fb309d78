import { tsupConfig } from '../../tsup.shared';

// The library entry ships ESM + CJS with types; the bin is ESM only (it uses top-level await).
export default [
  tsupConfig(),
  tsupConfig({ entry: ['src/cli.ts'], format: ['esm'], dts: false, clean: false }),
];
