import { tsupConfig } from '../../tsup.shared';

// The library entry ships ESM + CJS with types; the bin is ESM only (it uses top-level await).
// `shims` gives the CJS build an import.meta.url, which finds the status page's files in assets/.
export default [
  tsupConfig({ shims: true }),
  tsupConfig({ entry: ['src/cli.ts'], format: ['esm'], dts: false, clean: false }),
];
