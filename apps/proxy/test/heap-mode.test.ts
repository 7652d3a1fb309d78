// V8's incremental marking, on by default, is turned off by `streamingHeapMode` (called by
// `strm-proxy serve`): checked in a child Node whose trace shows whether marking starts while its
// old generation grows and is dropped, round after round.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, test } from 'vitest';
import { outputUntilClose } from '../../../tools/testing/child-output';
import { SOURCE_NODE_ARGS } from './support/cli';

const MODULE = pathToFileURL(join(import.meta.dirname, '..', 'src', 'heap-mode.ts')).href;

/** Runs a child that calls `streamingHeapMode(execArgv)` (or not), then churns its old generation. */
async function markingStarts(call: readonly string[] | undefined): Promise<{ starts: number; changed: unknown }> {
  const script = `
    import { streamingHeapMode } from ${JSON.stringify(MODULE)};
    const call = ${JSON.stringify(call ?? null)};
    const changed = call === null ? null : streamingHeapMode(call);
    let keep = [];
    for (let round = 0; round < 8; round++) {
      for (let i = 0; i < 300000; i++) keep.push({ i, s: 'x' + i });
      keep = [];
    }
    console.log(JSON.stringify({ changed }));
  `;
  const child = spawn(process.execPath, [...SOURCE_NODE_ARGS, '--trace-incremental-marking', '--input-type=module', '-e', script], { env: { PATH: process.env.PATH ?? '' }, stdio: ['ignore', 'pipe', 'pipe'] });
  const { stdout, stderr, status } = await outputUntilClose(child);
  expect(stderr).toBe('');
  expect(status).toBe(0);
  const last = stdout.trim().split('\n').at(-1)!;
  return { starts: stdout.split('\n').filter((line) => line.includes('[IncrementalMarking] Start (')).length, changed: (JSON.parse(last) as { changed: unknown }).changed };
}

describe('streamingHeapMode', () => {
  test("V8's default: incremental marking starts while the old generation grows", async () => {
    const { starts } = await markingStarts(undefined);
    expect(starts).toBeGreaterThan(0);
  }, 30_000);

  test('called: no incremental marking starts, and it says it changed the flag', async () => {
    expect(await markingStarts([])).toEqual({ starts: 0, changed: true });
  }, 30_000);

  test('a command line that names the flag decides: nothing is changed', async () => {
    const result = await markingStarts(['--incremental-marking']);
    expect(result.changed).toBe(false);
    expect(result.starts).toBeGreaterThan(0);
  }, 30_000);
});
