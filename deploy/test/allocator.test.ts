// The glibc allocator setting the proxy ships with (README, "The allocator setting"): one value in
// the image, the systemd unit, `npm start` and the bench, and one that this glibc's dynamic loader
// takes (it ignores a misspelt tunable without a word).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { deployDir, readText, repoRoot } from './support';

const SETTING = 'glibc.malloc.trim_threshold=33554432:glibc.malloc.arena_max=1';

/** A script's default for the variable, when the spawn that should pass it on does (else undefined). */
function passedOn(file: string, defaultValue: RegExp, spawnEnv: string): string | undefined {
  const text = readText(join(repoRoot, file));
  return text.includes(spawnEnv) ? defaultValue.exec(text)?.[1] : undefined;
}

/** The value each place gives GLIBC_TUNABLES, found the way that place writes it. */
const places: Record<string, string | undefined> = {
  // A line of the runtime stage's ENV instruction, whose lines before it all continue with `\`.
  Dockerfile: /^ENV NODE_ENV=production \\\n(?:[ \t]+\S+ \\\n)*[ \t]+GLIBC_TUNABLES=(\S+)$/m.exec(readText(join(repoRoot, 'Dockerfile')))?.[1],
  'systemd unit': /^Environment=GLIBC_TUNABLES=(\S+)$/m.exec(readText(join(deployDir, 'systemd', 'strm-proxy.service')))?.[1],
  'npm start (tools/dev/run.mjs)': passedOn('tools/dev/run.mjs', /PROXY_MALLOC_TUNABLES = '([^']+)'/, 'env: { GLIBC_TUNABLES: process.env.GLIBC_TUNABLES ?? PROXY_MALLOC_TUNABLES }'),
  'bench (tools/bench/processes.ts)': passedOn('tools/bench/processes.ts', /MALLOC_TUNABLES = process\.env\.GLIBC_TUNABLES \?\? '([^']+)'/, 'env: { ...process.env, GLIBC_TUNABLES: MALLOC_TUNABLES, ...options.env }'),
};

/** The dynamic loader of this machine (x86-64 or arm64 Debian). */
const loader = ['/lib64/ld-linux-x86-64.so.2', '/lib/ld-linux-aarch64.so.1'].find((path) => existsSync(path));

describe('allocator setting', () => {
  it.each(Object.keys(places))('%s sets GLIBC_TUNABLES to the one value', (place) => {
    expect(places[place]).toBe(SETTING);
  });

  it('the operator guides give the same value', () => {
    expect(readText(join(repoRoot, 'README.md'))).toContain(`\`GLIBC_TUNABLES=${SETTING}\``);
    expect(readText(join(repoRoot, 'apps/proxy/README.md'))).toContain(`\`GLIBC_TUNABLES=${SETTING}\``);
  });

  it("is taken by this glibc's loader: trim threshold 32 MiB and one arena instead of its defaults", () => {
    expect(loader, 'no glibc dynamic loader found').toBeDefined();
    const list = (env: NodeJS.ProcessEnv) => spawnSync(loader!, ['--list-tunables'], { encoding: 'utf8', env }).stdout;
    const tunable = (text: string, name: string) => new RegExp(`^glibc\\.malloc\\.${name}: (0x[0-9a-f]+)`, 'm').exec(text)?.[1];
    const { GLIBC_TUNABLES: _inherited, ...plain } = process.env;
    const before = list(plain);
    const after = list({ ...plain, GLIBC_TUNABLES: SETTING });
    expect([tunable(before, 'trim_threshold'), tunable(before, 'arena_max')]).toEqual(['0x0', '0x0']);
    expect([tunable(after, 'trim_threshold'), tunable(after, 'arena_max')]).toEqual([`0x${(32 * 1024 * 1024).toString(16)}`, '0x1']);
  });
});
