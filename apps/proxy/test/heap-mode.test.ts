// V8's incremental marking, on by default, is turned off by `disableIncrementalMarking` (called by
// `strm-proxy serve`) once a media stream has started (before that it stays on, so that V8's
// memory reducer shrinks the heap grown at start), and back on while 32 or more are open: checked
// in a child Node whose `--trace-incremental-marking` output shows whether marking starts while its
// old generation grows and is dropped (support/marking-probe.ts). What the reducer then gives back
// is measured by the bench (tools/bench/README.md, "The idle proxy gives back its start-up heap").
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { outputUntilClose } from '../../../tools/testing/child-output';
import { namesIncrementalMarking } from '../src/heap-mode';
import { SOURCE_NODE_ARGS } from './support/cli';

const PROBE = fileURLToPath(new URL('./support/marking-probe.ts', import.meta.url));

/** Runs the probe with Node flags `flags` and the call `call`; how often marking started (in all, and in each phase), and what the call returned. */
async function probe(call: string, flags: readonly string[] = []): Promise<{ starts: number; changed: unknown; phases: Record<string, number> }> {
  const child = spawn(process.execPath, [...SOURCE_NODE_ARGS, ...flags, '--trace-incremental-marking', PROBE, call], {
    env: { PATH: process.env.PATH ?? '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const { stdout, stderr, status } = await outputUntilClose(child);
  expect(stderr).toBe('');
  expect(status).toBe(0);
  const answer = stdout.split('\n').find((line) => line.startsWith('{"changed"'));
  expect(answer, stdout.slice(-2000)).toBeDefined();
  const phases: Record<string, number> = {};
  let phase = '';
  let starts = 0;
  for (const line of stdout.split('\n')) {
    if (line.startsWith('{"changed"')) break;
    if (line.startsWith('phase: ')) phases[(phase = line.slice('phase: '.length))] = 0;
    else if (line.includes('[IncrementalMarking] Start (')) {
      starts += 1;
      if (phase !== '') phases[phase]! += 1;
    }
  }
  return { starts, changed: (JSON.parse(answer!) as { changed: unknown }).changed, phases };
}

const PHASES = ['no stream', 'one stream'];
const LOAD_PHASES = [...PHASES, '32 streams', '9 streams', '8 streams', 'no stream again'];

describe('disableIncrementalMarking', () => {
  test('marking starts without the call; with it, only before the first stream', async () => {
    expect((await probe('none')).starts).toBeGreaterThan(0);
    const { changed, phases } = await probe('default');
    expect(changed).toBe(true);
    expect(Object.keys(phases)).toEqual(PHASES);
    expect(phases['no stream']).toBeGreaterThan(0);
    expect(phases['one stream']).toBe(0);
  });

  test('marking follows the load: off with one stream, on once 32 are open, still on at 9, off again at 8 and with none', async () => {
    const { changed, phases } = await probe('load');
    expect(changed).toBe(true);
    expect(Object.keys(phases)).toEqual(LOAD_PHASES);
    expect(phases['no stream']).toBeGreaterThan(0);
    expect(phases['one stream']).toBe(0);
    expect(phases['32 streams']).toBeGreaterThan(0);
    expect(phases['9 streams']).toBeGreaterThan(0);
    expect(phases['8 streams']).toBe(0);
    expect(phases['no stream again']).toBe(0);
  });

  test('node --incremental-marking: the command line decides, marking stays on with a stream', async () => {
    const { changed, phases } = await probe('default', ['--incremental-marking']);
    expect(changed).toBe(false);
    expect(phases['one stream']).toBeGreaterThan(0);
  });

  test('node --no-incremental-marking: the command line decides, marking stays off', async () => {
    expect(await probe('default', ['--no-incremental-marking'])).toMatchObject({ starts: 0, changed: false });
  });

  test('node --incremental-marking: marking stays on when the load is gone as well', async () => {
    const { changed, phases } = await probe('load', ['--incremental-marking']);
    expect(changed).toBe(false);
    expect(Object.keys(phases)).toEqual(LOAD_PHASES);
    expect(phases['8 streams']).toBeGreaterThan(0);
  });

  test('node --no-incremental-marking: marking stays off under a load and when idle as well', async () => {
    expect(await probe('load', ['--no-incremental-marking'])).toMatchObject({ starts: 0, changed: false });
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
