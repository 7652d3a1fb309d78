import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
// @ts-expect-error: a plain .mjs script of the workspace, without types
import { REQUIRED_TOOLS } from '../../../tools/dev/required-tools.mjs';

// `npm test` on a machine without the programs the suites drive must say what to install, and
// say it before it runs anything (not as a TypeError deep inside a suite).
const RUNNER = join(import.meta.dirname, '..', '..', '..', 'tools', 'dev', 'run.mjs');
const bin = mkdtempSync(join(tmpdir(), 'strm-dev-runner-'));
symlinkSync(process.execPath, join(bin, 'node'));
afterAll(() => rmSync(bin, { recursive: true, force: true }));

describe('npm test checks its programs first', () => {
  test('with none of them on the PATH: every program and its Debian package named, exit 1, nothing run', () => {
    const result = spawnSync(process.execPath, [RUNNER, 'test'], { encoding: 'utf8', env: { PATH: bin }, timeout: 30_000 });
    expect(result.status).toBe(1);
    const tools = REQUIRED_TOOLS as Array<{ command: string; debianPackage: string }>;
    for (const tool of tools) expect(result.stderr).toContain(`  ${tool.command} (Debian package ${tool.debianPackage}), for `);
    expect(result.stderr).toContain(`Install them with: sudo apt-get install -y ${[...new Set(tools.map((tool) => tool.debianPackage))].join(' ')}`);
    expect(result.stdout).toBe('');
    expect(result.stderr).not.toContain('TypeError');
  });

  test('with all of them: the check passes (this machine runs the suites)', () => {
    const result = spawnSync(process.execPath, [join(RUNNER, '..', 'required-tools.mjs'), '--missing-packages'], { encoding: 'utf8' });
    expect(result.stdout).toBe('\n');
  });
});
