// V8's incremental marking, on by default, is turned off by `disableIncrementalMarking` (called by
// `strm-proxy serve`) once its start-up window is over and a media request has come (before that
// it stays on, so that V8's memory reducer shrinks the heap grown at start), and back on while 32
// or more are in flight: checked
// in a child Node whose `--trace-incremental-marking` output shows whether marking starts while its
// old generation grows and is dropped (support/marking-probe.ts). What the reducer then gives back
// is measured by the bench (tools/bench/README.md, "The idle proxy gives back its start-up heap").
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { describe, expect, test } from 'vitest';
import { outputUntilClose } from '../../../tools/testing/child-output';
import { disableIncrementalMarking, mediaRequestsInFlight, namesIncrementalMarking } from '../src/heap-mode';
import { SOURCE_NODE_ARGS } from './support/cli';
import { fetchAll, mediaBytes, serveBytes, startResolver, startServer, startTestProxy } from './support/servers';

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

const PHASES = ['no request', 'one request'];
const LOAD_PHASES = [...PHASES, '32 requests', '9 requests', '8 requests', 'no request again'];

describe('disableIncrementalMarking', () => {
  test('marking starts without the call', async () => {
    expect((await probe('none')).starts).toBeGreaterThan(0);
  });

  // The probe runs well inside the default window of a minute.
  test.each([
    ['no start-up window', 'default', 'off'],
    ['the default start-up window', 'start-up', 'on'],
    ['a start-up window that is over', 'start-up over', 'off'],
  ])('with %s, marking starts before the first media request (probe %s) and is %s with one in flight', async (_window, call, marking) => {
    const { changed, phases } = await probe(call);
    expect(changed).toBe(true);
    expect(Object.keys(phases)).toEqual(PHASES);
    expect(phases['no request']).toBeGreaterThan(0);
    if (marking === 'on') expect(phases['one request']).toBeGreaterThan(0);
    else expect(phases['one request']).toBe(0);
  });

  test.each([-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2_147_483_648, '20000'])('a start-up window of %j is refused with a TypeError', (startUpMs) => {
    expect(() => disableIncrementalMarking(['--incremental-marking'], { startUpMs: startUpMs as number })).toThrow(
      /^options\.startUpMs must be a whole number of milliseconds from 0 to 2147483647; received (-1|1\.5|NaN|Infinity|2147483648|"20000")$/,
    );
  });

  test('marking follows the load: off with one request in flight, on once 32 are, still on at 9, off again at 8 and with none', async () => {
    const { changed, phases } = await probe('load');
    expect(changed).toBe(true);
    expect(Object.keys(phases)).toEqual(LOAD_PHASES);
    expect(phases['no request']).toBeGreaterThan(0);
    expect(phases['one request']).toBe(0);
    expect(phases['32 requests']).toBeGreaterThan(0);
    expect(phases['9 requests']).toBeGreaterThan(0);
    expect(phases['8 requests']).toBe(0);
    expect(phases['no request again']).toBe(0);
  });

  test('node --incremental-marking: the command line decides, marking stays on with a request in flight', async () => {
    const { changed, phases } = await probe('default', ['--incremental-marking']);
    expect(changed).toBe(false);
    expect(phases['one request']).toBeGreaterThan(0);
  });

  test('node --no-incremental-marking: the command line decides, marking stays off', async () => {
    expect(await probe('default', ['--no-incremental-marking'])).toMatchObject({ starts: 0, changed: false });
  });

  test('node --incremental-marking: marking stays on when the load is gone as well', async () => {
    const { changed, phases } = await probe('load', ['--incremental-marking']);
    expect(changed).toBe(false);
    expect(Object.keys(phases)).toEqual(LOAD_PHASES);
    expect(phases['8 requests']).toBeGreaterThan(0);
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

describe('media requests in flight', () => {
  test('a media request counts from its arrival until its response closes, whether it completes, is refused, or is left while it waits for its upstream, alone or pipelined', async () => {
    // Resolves once the origin has been asked for /hangs.mp4 `count` times in all.
    const asked: Array<{ count: number; resolve: () => void }> = [];
    let hung = 0;
    const upstreamAsked = (count: number) => new Promise<void>((resolve) => asked.push({ count, resolve }));
    const origin = await startServer((req, res) => {
      if (!(req.url ?? '').startsWith('/hangs.mp4')) return serveBytes(req, res, mediaBytes(100_000));
      hung += 1; // answers nothing
      for (const waiter of asked.filter((w) => w.count <= hung)) waiter.resolve();
    });
    const resolver = await startResolver([
      { slug: 'video', url: () => `${origin.origin}/video.mp4` },
      { slug: 'hangs', url: () => `${origin.origin}/hangs.mp4` },
    ]);
    const proxy = await startTestProxy(resolver);
    try {
      const before = mediaRequestsInFlight();
      const requestLines = () => proxy.logs.filter((line) => line.msg === 'request').length;
      const leftLines = () => proxy.logs.filter((line) => line.msg === 'request' && line.aborted === true).length;

      // Counted before any byte of a body: under many clients of short requests, the body of each
      // is copied within a turn of the event loop, and most of a request's life is before it.
      const controller = new AbortController();
      const left = request(proxy.entryUrl('hangs'), { signal: controller.signal }).catch(() => 'left');
      await upstreamAsked(1);
      expect(mediaRequestsInFlight()).toBe(before + 1);
      controller.abort();
      expect(await left).toBe('left');
      // The log line is written after the count is taken back (both follow the response's close).
      await proxy.waitForLog((line) => line.msg === 'request' && line.aborted === true);
      expect(mediaRequestsInFlight()).toBe(before);

      const whole = await fetchAll(proxy.entryUrl('video'));
      expect(whole.status).toBe(200);
      expect(whole.body.length).toBe(100_000);
      await proxy.waitForLog((line) => line.msg === 'request' && line.bytes === 100_000);
      expect(mediaRequestsInFlight()).toBe(before);

      // Two requests pipelined on one connection, both waiting for their upstream, and the client
      // leaves: the second response, queued behind the first, never closes on Node 20; its request
      // does, and that takes it back too.
      const { pathname, search } = new URL(proxy.entryUrl('hangs'));
      const target = `GET ${pathname}${search} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`;
      const socket = connect(Number(new URL(proxy.url).port), '127.0.0.1');
      socket.on('error', () => {});
      socket.write(target + target);
      await upstreamAsked(3);
      expect(mediaRequestsInFlight()).toBe(before + 2);
      const leftBefore = leftLines();
      socket.destroy();
      await proxy.waitForLog(() => leftLines() === leftBefore + 2);
      expect(mediaRequestsInFlight()).toBe(before);
      // The status page lets go of both as well (its count is the strm_active_streams gauge).
      expect((await fetchAll(`${proxy.url}/metrics`)).body.toString()).toMatch(/^strm_active_streams 0$/m);

      const logged = requestLines();
      const refused = await fetchAll(`${proxy.url}/strm/stream?slug=video`);
      expect(refused.status).toBe(401);
      await proxy.waitForLog((line) => line.msg === 'request' && line.status === 401);
      expect(mediaRequestsInFlight()).toBe(before);

      // Not a media request: never counted, and no request line of its own.
      expect((await fetchAll(`${proxy.url}/healthz`)).status).toBe(200);
      expect(mediaRequestsInFlight()).toBe(before);
      expect(requestLines()).toBe(logged + 1);
    } finally {
      await proxy.close(0);
      await resolver.close();
      await origin.close();
    }
  });
});
