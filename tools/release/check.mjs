#!/usr/bin/env node
// Publish check for one workspace package (the `publish-check` target of every published package;
// `pnpm release:check` runs it for all of them). It proves what a user of npm gets:
//   1. `pnpm pack` (which applies publishConfig and turns `workspace:` ranges into versions);
//   2. `publint --strict` on the unpacked tarball and `attw` on the tarball itself;
//   3. `npm install` of the tarball (plus the tarballs of the workspace packages it depends on)
//      into an empty temporary folder;
//   4. loading it with `import` and with `require` (same export names), type-checking a `.mts`
//      and a `.cts` consumer with `moduleResolution: nodenext`, and running its bins with `--help`.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..', '..');
const bin = (name) => join(root, 'node_modules', '.bin', name);
const packageDir = resolve(process.argv[2] ?? '.');
const readManifest = (dir) => JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));

function sh(command, args, cwd) {
  try {
    return execFileSync(command, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    console.error(`release-check: \`${command} ${args.join(' ')}\` failed in ${cwd}`);
    console.error(String(error.stdout ?? '') + String(error.stderr ?? ''));
    process.exit(1);
  }
}

/** Directories of the workspace's published packages, by name. */
function workspacePackages() {
  const dirs = [...readdirSync(join(root, 'packages')).map((d) => join(root, 'packages', d)), join(root, 'apps', 'proxy')];
  return new Map(dirs.map((dir) => [readManifest(dir).name, dir]));
}

/** This package and every workspace package it depends on, transitively. */
function withWorkspaceDependencies(dir, all, seen = new Map()) {
  const manifest = readManifest(dir);
  if (seen.has(manifest.name)) return seen;
  seen.set(manifest.name, dir);
  for (const dep of Object.keys(manifest.dependencies ?? {})) {
    if (all.has(dep)) withWorkspaceDependencies(all.get(dep), all, seen);
  }
  return seen;
}

const manifest = readManifest(packageDir);
const work = mkdtempSync(join(tmpdir(), 'strm-release-check-'));
try {
  const tarballs = new Map();
  for (const [name, dir] of withWorkspaceDependencies(packageDir, workspacePackages())) {
    const out = sh('pnpm', ['pack', '--pack-destination', work], dir).trim().split('\n').pop();
    tarballs.set(name, out.startsWith('/') ? out : join(work, out));
  }
  const tarball = tarballs.get(manifest.name);

  const unpacked = join(work, 'unpacked');
  mkdirSync(unpacked);
  sh('tar', ['-xzf', tarball, '-C', unpacked], work);
  const packed = readManifest(join(unpacked, 'package'));
  const readmePath = join(unpacked, 'package', 'README.md');
  const readme = existsSync(readmePath) ? readFileSync(readmePath, 'utf8') : '';
  if (!readme.startsWith(`# ${manifest.name}\n`)) throw new Error(`the tarball has no README.md headed "# ${manifest.name}"`);
  for (const [field, range] of Object.entries({ ...packed.dependencies, ...packed.peerDependencies })) {
    if (String(range).startsWith('workspace:')) throw new Error(`${field} still has a workspace: range`);
  }
  sh(bin('publint'), ['--strict', join(unpacked, 'package')], root);
  sh(bin('attw'), [tarball, '--format', 'table-flipped', ...(packed.bin ? ['--ignore-rules', 'cjs-resolves-to-esm'] : [])], root);

  const app = join(work, 'app');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'release-check-app', private: true }));
  sh('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', ...tarballs.values()], app);

  const name = manifest.name;
  const esmKeys = sh(process.execPath, ['--input-type=module', '-e', `import * as m from '${name}'; console.log(JSON.stringify(Object.keys(m).sort()))`], app).trim();
  const cjsKeys = sh(process.execPath, ['-e', `console.log(JSON.stringify(Object.keys(require('${name}')).filter((k) => k !== '__esModule').sort()))`], app).trim();
  if (esmKeys !== cjsKeys) throw new Error(`import and require export different names:\n${esmKeys}\n${cjsKeys}`);
  if (JSON.parse(esmKeys).length === 0) throw new Error('the package exports nothing');

  writeFileSync(join(app, 'esm.mts'), `import * as m from '${name}';\nexport const names: string[] = Object.keys(m);\n`);
  writeFileSync(join(app, 'cjs.cts'), `import m = require('${name}');\nexport const names: string[] = Object.keys(m);\n`);
  writeFileSync(join(app, 'tsconfig.json'), JSON.stringify({
    compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext', strict: true, noEmit: true, skipLibCheck: true, types: [] },
    files: ['esm.mts', 'cjs.cts'],
  }));
  sh(bin('tsc'), ['-p', app], app);

  for (const binName of Object.keys(packed.bin ?? {})) {
    sh(join(app, 'node_modules', '.bin', binName), ['--help'], app);
  }
  console.log(`release-check: ${name} ok (${JSON.parse(esmKeys).length} exports; publint, attw, npm install, import, require, types${packed.bin ? ', bin' : ''})`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
