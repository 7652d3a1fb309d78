// V8's incremental marking, on by default, is turned off by `disableIncrementalMarking` (called by
// `strm-proxy serve`): checked in a child Node whose `--trace-incremental-marking` output shows
// whether marking starts while its old generation grows and is dropped (support/marking-probe.ts).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { outputUntilClose } from '../../../tools/testing/child-output';
import { namesIncrementalMarking } from '../src/heap-mode';
import { SOURCE_NODE_ARGS } from './support/cli';

const PROBE = fileURLToPath(new URL('./support/marking-probe.ts', import.meta.url));

/** Runs the probe with Node flags `flags` and the call `call`; how often marking started, and what the call returned. */
async function probe(call: string, flags: readonly string[] = []): Promise<{ starts: number; changed: unknown }> {
  const child = spawn(process.execPath, [...SOURCE_NODE_ARGS, ...flags, '--trace-incremental-marking', PROBE, call], {
    env: { PATH: process.env.PATH ?? '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const { stdout, stderr, status } = await outputUntilClose(child);
  expect(stderr).toBe('');
  expect(status).toBe(0);
  const answer = stdout.split('\n').find((line) => line.startsWith('{"changed"'));
  expect(answer, stdout.slice(-2000)).toBeDefined();
  return { starts: stdout.split('\n').filter((line) => line.includes('[IncrementalMarking] Start (')).length, changed: (JSON.parse(answer!) as { changed: unknown }).changed };
}

describe('disableIncrementalMarking', () => {
  test('marking starts without the call, and never once it is made', async () => {
    expect((await probe('none')).starts).toBeGreaterThan(0);
    expect(await probe('default')).toEqual({ starts: 0, changed: true });
  });

  test('node --incremental-marking: the command line decides, marking stays on', async () => {
    const { changed, starts } = await probe('default', ['--incremental-marking']);
    expect(changed).toBe(false);
    expect(starts).toBeGreaterThan(0);
  });

  test('node --no-incremental-marking: the command line decides, marking stays off', async () => {
    expect(await probe('default', ['--no-incremental-marking'])).toEqual({ starts: 0, changed: false });
  });
});

describe('namesIncrementalMarking', () => {
  test.each(['--incremental-marking', '--incremental_marking', '--no-incremental-marking', '--no_incremental_marking', '--noincremental-marking', '-incremental-marking'])(
    'namesIncrementalMarking([%j]) is true',
    (flag) => {
      expect(namesIncrementalMarking(['--expose-gc', flag])).toBe(true);
    },
  );

  test.each(['--trace-incremental-marking', '--stress-incremental-marking', '--incremental-marking-task'])('namesIncrementalMarking([%j]) is false', (flag) => {
    expect(namesIncrementalMarking([flag])).toBe(false);
  });
});
