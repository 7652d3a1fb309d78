// Whether the compiled proxy (apps/proxy/dist and the dist of every package it is built from) is
// as new as its sources: `npm start`, `pnpm strm-proxy` (tools/dev/run.mjs) and the e2e load
// suites run the compiled proxy, the way production runs it, and must never run a stale one.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The command that builds it (Nx builds the packages first and reuses what its cache holds). */
export const PROXY_BUILD_COMMAND = ['nx', 'run', '@strm/proxy:build', '--output-style=static'];

/** The published bin, which runs the compiled CLI (dist/cli.js). */
export const PROXY_BIN = join(root, 'apps', 'proxy', 'bin', 'strm-proxy.js');

/** Newest (or oldest) modification time of the files under `dir`; 0 when there are none. */
function fileTimes(dir, pick) {
  if (!existsSync(dir)) return 0;
  let found;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const time = statSync(join(entry.parentPath ?? entry.path, entry.name)).mtimeMs;
    found = found === undefined ? time : pick(found, time);
  }
  return found ?? 0;
}

/** True when every dist exists and no source file (or package.json) is newer than it. */
export function proxyBuildIsCurrent() {
  const projects = [join(root, 'apps', 'proxy'), ...readdirSync(join(root, 'packages')).map((name) => join(root, 'packages', name))];
  return projects.every((dir) => {
    const built = fileTimes(join(dir, 'dist'), Math.min);
    const sources = Math.max(fileTimes(join(dir, 'src'), Math.max), statSync(join(dir, 'package.json')).mtimeMs);
    return built > 0 && built >= sources;
  });
}
