#!/usr/bin/env node
// `prepack` of every published package: refuses to pack a package whose build output is missing,
// so `pnpm pack` / `npm pack` / `changeset publish` can never ship a tarball of empty entry points.
// It checks every file the manifest points at (publishConfig.exports, main, module, types) and
// every `../dist/…` file a bin script imports.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

const packageDir = resolve(process.argv[2] ?? '.');
const manifest = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8'));

/** Every relative file path inside an exports map (conditions nested at any depth). */
function exportTargets(value) {
  if (typeof value === 'string') return value.startsWith('./') && !value.endsWith('package.json') ? [value] : [];
  if (value === null || typeof value !== 'object') return [];
  return Object.values(value).flatMap(exportTargets);
}

const exportsMap = manifest.publishConfig?.exports ?? manifest.exports;
const targets = new Set([
  ...exportTargets(exportsMap).filter((target) => !target.startsWith('./src/')),
  ...[manifest.main, manifest.module, manifest.types].filter((target) => typeof target === 'string'),
]);
const bins = typeof manifest.bin === 'string' ? [manifest.bin] : Object.values(manifest.bin ?? {});
for (const bin of bins) {
  targets.add(bin);
  const source = existsSync(join(packageDir, bin)) ? readFileSync(join(packageDir, bin), 'utf8') : '';
  for (const match of source.matchAll(/['"](\.\.?\/dist\/[^'"]+)['"]/g)) targets.add(join(dirname(bin), match[1]));
}

const missing = [...targets].filter((target) => !existsSync(join(packageDir, target)));
if (missing.length > 0) {
  console.error(`prepack: ${manifest.name} is not built; missing ${missing.join(', ')}`);
  console.error(`prepack: build it first: pnpm nx build ${manifest.name} (or pnpm nx run-many -t build)`);
  process.exit(1);
}
