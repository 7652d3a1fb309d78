// The published bin turns V8's concurrent marking off before the CLI's modules load
// (apps/proxy/bin/marking-at-start.js): on Node 20, V8 can abort the process when concurrent
// marking goes off while it works, which `serve`'s first turn off of incremental marking does.
// Loading the CLI grows the heap enough for V8 to run one incremental marking, and its trace says
// whether anything was marked on background threads meanwhile.
import { spawn } from 'node:child_process';
import { describe, expect, test } from 'vitest';
import { outputUntilClose } from '../../../tools/testing/child-output';
// @ts-expect-error: a plain .mjs script of the workspace, without types
import { PROXY_BIN, PROXY_BUILD_COMMAND, proxyBuildIsCurrent } from '../../../tools/dev/proxy-build.mjs';

/** Runs `strm-proxy --help` through the bin with Node flags `flags`: how often marking started, and the most V8 marked on background threads. */
async function helpTrace(flags: readonly string[]): Promise<{ starts: number; backgroundKB: number }> {
  if (!proxyBuildIsCurrent()) throw new Error(`the compiled proxy is missing or older than its sources: build it with \`pnpm ${(PROXY_BUILD_COMMAND as string[]).join(' ')}\``);
  const child = spawn(process.execPath, [...flags, '--trace-incremental-marking', PROXY_BIN as string, '--help'], { env: { PATH: process.env.PATH ?? '' }, stdio: ['ignore', 'pipe', 'pipe'] });
  const { stdout, stderr, status } = await outputUntilClose(child);
  expect({ status, stderr }).toEqual({ status: 0, stderr: '' });
  expect(stdout).toContain('Usage: strm-proxy <command> [options]');
  const starts = stdout.split('\n').filter((line) => line.includes('[IncrementalMarking] Start (')).length;
  const background = [...stdout.matchAll(/\[IncrementalMarking\] Marked (\d+)KB on background threads/g)].map((match) => Number(match[1]));
  return { starts, backgroundKB: Math.max(0, ...background) };
}

describe('the strm-proxy bin', () => {
  test('turns concurrent marking off before the CLI loads: V8 marks while it loads, nothing on background threads', async () => {
    const { starts, backgroundKB } = await helpTrace([]);
    expect(starts).toBeGreaterThan(0);
    expect(backgroundKB).toBe(0);
  });

  test('node --concurrent-marking: the command line decides, and V8 marks on background threads as well', async () => {
    const { starts, backgroundKB } = await helpTrace(['--concurrent-marking']);
    expect(starts).toBeGreaterThan(0);
    expect(backgroundKB).toBeGreaterThan(0);
  });
});
