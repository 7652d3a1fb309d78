#!/usr/bin/env node
// The entry point behind the root scripts (`npm start`, `npm test`, `pnpm bench`, ...).
// It needs only Node and npm: on a fresh clone it installs the workspace with pnpm (through npx
// when pnpm is not on PATH) before it runs anything, so the README's two commands are the whole
// set-up. The proxy runs as production runs it, from its compiled dist (built here on the first
// run and again when a source is newer than the build); the demo, the bench and the tests' own
// scripts run from their TypeScript sources (the `@strm/source` export condition) with tsx.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { PROXY_BIN, PROXY_BUILD_COMMAND, proxyBuildIsCurrent } from './proxy-build.mjs';
import { missingToolsMessage } from './required-tools.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const PNPM_VERSION = '10.34.9';
const isCI = Boolean(process.env.CI) && process.env.CI !== 'false';
// npm and pnpm run scripts in the workspace root; INIT_CWD is the folder the command was typed
// in, so that `--out`, `--from` and STRM_RESOLVER_FILE are relative to the caller, not the repo.
const callerDir = process.env.INIT_CWD || process.cwd();

// tools/dev/bin (a pnpm shim) comes first, so that Nx (which runs package scripts with pnpm)
// and the publish check find the pnpm that the workspace installs as a dev dependency, also on
// a machine that has only Node and npm.
const PATH_WITH_BINS = [join(root, 'tools', 'dev', 'bin'), join(root, 'node_modules', '.bin'), process.env.PATH ?? ''].join(delimiter);

function run(command, args, { env: extraEnv, path = PATH_WITH_BINS, cwd = root, stdio = 'inherit' } = {}) {
  const env = { ...process.env, ...extraEnv, PATH: path };
  const result = spawnSync(command, args, { cwd, stdio, env });
  if (result.error) {
    console.error(`strm: could not run ${command}: ${result.error.message}`);
    return 1;
  }
  return result.status ?? 1;
}

function pnpmCommand() {
  const probe = spawnSync('pnpm', ['--version'], { encoding: 'utf8' });
  if (probe.status === 0 && probe.stdout.trim().startsWith('10.')) return ['pnpm', []];
  return ['npx', ['--yes', `pnpm@${PNPM_VERSION}`]];
}

/** Installs the workspace unless node_modules already matches the lockfile. */
function ensureInstalled() {
  const lock = join(root, 'pnpm-lock.yaml');
  const installed = join(root, 'node_modules', '.pnpm', 'lock.yaml');
  if (existsSync(installed) && readFileSync(installed, 'utf8') === readFileSync(lock, 'utf8')) return;
  console.error('strm: installing the workspace with pnpm (first run only)...');
  const [command, prefix] = pnpmCommand();
  // The caller's own PATH: the workspace's pnpm shim needs the install that is about to happen.
  const status = run(command, [...prefix, 'install', '--frozen-lockfile', '--reporter=append-only'], { path: process.env.PATH });
  if (status !== 0) process.exit(status);
}

const bin = (name) => join(root, 'node_modules', '.bin', name);
// tsx by its file URL: from the caller's folder, a bare `--import tsx` would not be found.
const sourceNodeArgs = () => ['--conditions=@strm/source', '--import', pathToFileURL(createRequire(join(root, 'package.json')).resolve('tsx')).href];
const runSource = (file, args) => run(process.execPath, [...sourceNodeArgs(), join(root, file), ...args], { cwd: callerDir });

/**
 * The allocator setting the container ships (Dockerfile): glibc keeps up to 32 MiB of freed heap,
 * in a single arena shared by all threads, instead of returning it and faulting it in again for
 * every 64 KiB socket read of a stream.
 */
const PROXY_MALLOC_TUNABLES = 'glibc.malloc.trim_threshold=33554432:glibc.malloc.arena_max=1';

/** Runs the compiled proxy through its published bin, building it (and what it depends on) first when needed. */
function runCompiledProxy(args) {
  if (!proxyBuildIsCurrent()) {
    console.error('strm: building the proxy (first run, or a source changed since the last build)...');
    const [nx, ...nxArgs] = PROXY_BUILD_COMMAND;
    // The build reports on stderr: the CLI's stdout is its answer (`sign` prints the URL).
    const status = run(bin(nx), nxArgs, { env: { NX_TUI: 'false' }, stdio: ['ignore', 2, 2] });
    if (status !== 0) return status;
  }
  return run(process.execPath, [PROXY_BIN, ...args], { cwd: callerDir, env: { GLIBC_TUNABLES: process.env.GLIBC_TUNABLES ?? PROXY_MALLOC_TUNABLES } });
}

const projectDirs = () =>
  ['packages', 'apps', 'tools'].flatMap((group) => {
    const base = join(root, group);
    if (group === 'tools') return [base];
    return readdirSync(base, { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => join(base, entry.name));
  });

/** ESLint over the whole workspace, then knip (unused files, exports and dependencies). */
function runLint(extraArgs) {
  const eslint = run(bin('eslint'), ['--max-warnings=0', '.', ...extraArgs]);
  const knip = run(bin('knip'), ['--no-progress']);
  if (eslint === 0 && knip === 0) console.log('lint: eslint and knip clean');
  return eslint !== 0 ? eslint : knip;
}

/** Lints, runs every target of every project, then prints one closing line over all vitest runs. */
function runTests(extraArgs) {
  const lint = runLint([]);
  const reports = projectDirs().map((dir) => join(dir, 'test-results', 'vitest.json'));
  for (const report of reports) rmSync(report, { force: true });
  const nxArgs = ['run-many', '-t', 'typecheck', 'test', 'publish-check', '--output-style=static'];
  if (isCI) nxArgs.push('--skip-nx-cache');
  const status = run(bin('nx'), [...nxArgs, ...extraArgs], { env: { ...process.env, NX_TUI: 'false' } });
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  for (const report of reports) {
    if (!existsSync(report)) continue;
    const json = JSON.parse(readFileSync(report, 'utf8'));
    passed += json.numPassedTests;
    failed += json.numFailedTests;
    skipped += json.numPendingTests + json.numTodoTests;
  }
  if (status !== 0 && failed === 0) failed = 1; // a failed typecheck, build or publish check
  console.log(`\ntests: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}${lint !== 0 ? '; lint failed' : ''}`);
  return status !== 0 ? status : lint;
}

const [command, ...args] = process.argv.slice(2);
if (command === 'test') {
  // Before anything runs: a missing program would otherwise fail deep inside a suite.
  const missing = missingToolsMessage();
  if (missing !== undefined) {
    console.error(missing);
    process.exit(1);
  }
}
ensureInstalled();
/** The exit status of one root script. */
function runCommand() {
  switch (command) {
    case 'test':
      return runTests(args);
    case 'lint':
      return runLint(args);
    case 'start': {
      const configured = process.env.STRM_RESOLVER_URL || process.env.STRM_RESOLVER_FILE || process.env.STRM_RESOLVER_COMMAND;
      if (args.length > 0 || configured) return runCompiledProxy(args.length ? args : ['serve']);
      // The demo (fake CDN, fake resolver and proxy in one process) starts from sources: it is a
      // try-out, where starting in seconds matters more than the proxy's CPU per GiB.
      return runSource('apps/e2e/src/demo.ts', []);
    }
    case 'strm-proxy':
      return runCompiledProxy(args);
    case 'bench':
      return runSource('tools/bench/main.ts', args);
    case 'install': // the install alone (above), e.g. before CI runs the tests and the container smoke side by side
      return 0;
    case 'release-check':
      return run(bin('nx'), ['run-many', '-t', 'publish-check', '--output-style=static', ...args]);
    default:
      console.error(`usage: node tools/dev/run.mjs <test|lint|start|strm-proxy|bench|release-check|install> [args]`);
      return 2;
  }
}
process.exit(runCommand());
