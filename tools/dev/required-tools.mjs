#!/usr/bin/env node
// The programs the test suites drive for real, and the Debian package of each: the one table
// behind `npm test`'s check (tools/dev/run.mjs) and `.ci/run`'s install list. A suite that needs
// another program adds a row here.
//   node tools/dev/required-tools.mjs --missing-packages   prints the packages to install, one line
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** @type {ReadonlyArray<{ command: string, debianPackage: string, usedBy: string }>} */
export const REQUIRED_TOOLS = [
  { command: 'ffmpeg', debianPackage: 'ffmpeg', usedBy: 'the end-to-end suites (apps/e2e)' },
  { command: 'ffprobe', debianPackage: 'ffmpeg', usedBy: 'the end-to-end suites and the demo test (apps/e2e)' },
  { command: 'redis-server', debianPackage: 'redis-server', usedBy: 'the Redis store and replica suites' },
  { command: 'yt-dlp', debianPackage: 'yt-dlp', usedBy: 'the resolver-command suite (apps/e2e)' },
  { command: 'promtool', debianPackage: 'prometheus', usedBy: 'the check of the Prometheus alert rules (apps/proxy)' },
  { command: 'mpv', debianPackage: 'mpv', usedBy: 'the mpv player suite (apps/e2e)' },
  { command: 'cvlc', debianPackage: 'vlc', usedBy: 'the VLC player suite (apps/e2e)' },
  { command: 'chromium', debianPackage: 'chromium', usedBy: 'the status page and hls.js suites (apps/e2e)' },
  { command: 'systemd-analyze', debianPackage: 'systemd', usedBy: 'the check of the systemd unit (deploy)' },
  { command: 'nginx', debianPackage: 'nginx', usedBy: 'the replicas behind nginx (deploy)' },
];

/** True when `command` is an executable file in one of the PATH's folders. */
function onPath(command, path = process.env.PATH ?? '') {
  return path.split(delimiter).filter(Boolean).some((dir) => {
    try {
      accessSync(join(dir, command), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** The rows of {@link REQUIRED_TOOLS} whose program is not on the PATH. */
function missingTools(path = process.env.PATH ?? '') {
  return REQUIRED_TOOLS.filter((tool) => !onPath(tool.command, path));
}

/** The message `npm test` stops with, or undefined when everything is there. */
export function missingToolsMessage(path = process.env.PATH ?? '') {
  const missing = missingTools(path);
  if (missing.length === 0) return undefined;
  const packages = [...new Set(missing.map((tool) => tool.debianPackage))];
  return [
    'strm: the tests need programs that are not installed:',
    ...missing.map((tool) => `  ${tool.command} (Debian package ${tool.debianPackage}), for ${tool.usedBy}`),
    `Install them with: sudo apt-get install -y ${packages.join(' ')}`,
  ].join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv[2] === '--missing-packages') {
  console.log([...new Set(missingTools().map((tool) => tool.debianPackage))].join(' '));
}
