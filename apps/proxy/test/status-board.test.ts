// The status board on its own: real HTTP requests (a server on port 0 and undici) registered the
// way the proxy registers them, a clock the test moves, and the request records changed by hand.
import type { ServerResponse } from 'node:http';
import { request } from 'undici';
import { afterEach, describe, expect, test } from 'vitest';
import { episodeLabel, shownPath, StatusBoard, type TrackedRequest } from '../src/status-board';
import { startServer, type TestServer } from './support/servers';

type Record = { -readonly [K in keyof TrackedRequest]: TrackedRequest[K] };

const frieren = { site: 'aniworld.to', slug: 'frieren', season: 1, episode: 3, language: 'German Dub' };
const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

/**
 * A server whose every request is tracked on `board` with a fresh record; the test gets the
 * record and the response to drive them, and waits for the board to have let a request go.
 */
async function trackedServer(board: StatusBoard, clock: { t: number }) {
  const arrivals: Array<(value: { record: Record; res: ServerResponse }) => void> = [];
  const pending: Array<{ record: Record; res: ServerResponse }> = [];
  const server = await startServer((req, res) => {
    const record: Record = { route: 'stream', startedAt: clock.t, bytes: 0, refreshes: 0, resumes: 0 };
    board.track(req, res, record);
    const waiter = arrivals.shift();
    if (waiter) waiter({ record, res });
    else pending.push({ record, res });
  });
  servers.push(server);
  const next = () => new Promise<{ record: Record; res: ServerResponse }>((resolve) => {
    const ready = pending.shift();
    if (ready) resolve(ready);
    else arrivals.push(resolve);
  });
  return { server, next };
}

function boardWithClock(options: { maxFailures?: number } = {}) {
  const clock = { t: Date.UTC(2026, 11, 1, 12) };
  const active: number[] = [];
  const settled: Array<() => void> = [];
  const board = new StatusBoard({
    now: () => clock.t,
    ...options,
    onActiveChange: (count) => {
      active.push(count);
      if (count === 0) settled.splice(0).forEach((resolve) => resolve());
    },
  });
  const idle = () => new Promise<void>((resolve) => settled.push(resolve));
  return { board, clock, active, idle };
}

describe('StatusBoard', () => {
  test('shows a response while it runs: episode, client, path without query, status, live bytes, rate, duration, upstream host', async () => {
    const { board, clock, active, idle } = boardWithClock();
    const { server, next } = await trackedServer(board, clock);
    const response = request(`${server.origin}/strm/stream?slug=frieren&sig=deadbeef&apikey=k`);
    const { record, res } = await next();

    let [stream] = board.snapshot().streams;
    expect(stream).toMatchObject({ episode: null, client: '127.0.0.1', route: 'stream', path: '/strm/stream', status: null, bytes: 0 });

    record.identity = frieren;
    record.upstreamHost = 'cdn.example:443';
    res.writeHead(200, { 'content-type': 'video/mp4' });
    res.write(Buffer.alloc(1000));
    record.bytes = 1000;
    clock.t += 2000;
    [stream] = board.snapshot().streams;
    // The first snapshot of a stream has no earlier sample: its rate is the average since the start.
    expect(stream).toMatchObject({ episode: 'frieren S01E03 · German Dub · aniworld.to', status: 200, bytes: 1000, bytesPerSecond: 500, durationMs: 2000, upstreamHost: 'cdn.example:443', refreshes: 0, resumes: 0 });

    record.bytes = 5000;
    record.refreshes = 1;
    record.resumes = 2;
    clock.t += 1000;
    [stream] = board.snapshot().streams;
    // All three samples lie inside the 5-second window: 5000 bytes over 3 s.
    expect(stream).toMatchObject({ bytes: 5000, bytesPerSecond: 1667, durationMs: 3000, refreshes: 1, resumes: 2 });
    expect(active).toEqual([1]);

    const gone = idle();
    res.end();
    await (await response).body.dump();
    await gone;
    expect(board.snapshot()).toEqual({ streams: [], failures: [] });
    expect(active).toEqual([1, 0]);
  });

  test('the rate covers the last window only, however long the stream ran', async () => {
    const { board, clock } = boardWithClock();
    const { server, next } = await trackedServer(board, clock);
    const response = request(`${server.origin}/strm/stream`);
    const { record, res } = await next();
    res.writeHead(200);
    // 10 MB in the first 10 s, then 1000 B/s: after the window has slid, only the slow part counts.
    record.bytes = 10_000_000;
    clock.t += 10_000;
    board.snapshot();
    for (let second = 1; second <= 8; second += 1) {
      record.bytes += 1000;
      clock.t += 1000;
      board.snapshot();
    }
    expect(board.snapshot().streams[0]!.bytesPerSecond).toBe(1000);
    res.end();
    await (await response).body.dump();
  });

  test('a response that ends with 400 or more, or with a recorded failure, is kept as a failure; others are not', async () => {
    const { board, clock, idle } = boardWithClock();
    const { server, next } = await trackedServer(board, clock);
    const run = async (path: string, finish: (record: Record, res: ServerResponse) => void) => {
      const settled = idle();
      const response = request(`${server.origin}${path}`).catch(() => undefined);
      const { record, res } = await next();
      finish(record, res);
      await (await response)?.body.dump().catch(() => undefined);
      await settled;
    };
    await run('/strm/stream?sig=x', (_record, res) => res.end('ok'));
    await run('/strm/proxy/SEALEDTOKENSEALEDTOKEN/seg3.ts', (record, res) => {
      record.identity = { ...frieren, provider: 'VOE' };
      record.upstreamHost = 'cdn.example';
      record.failure = { code: 'STRM_UPSTREAM_FAILED', cause: 'the upstream answered 403' };
      res.writeHead(403).end();
    });
    await run('/strm/stream?sig=x', (_record, res) => res.writeHead(401).end());
    await run('/strm/stream', (record, res) => {
      // Mid-body failure: the status was 206, the connection is cut.
      res.writeHead(206);
      res.write('x');
      record.failure = { code: 'STRM_UPSTREAM_FAILED', cause: 'the upstream body broke off' };
      res.destroy();
    });

    const { failures } = board.snapshot();
    expect(failures.map((failure) => [failure.path, failure.status, failure.code, failure.cause, failure.episode, failure.upstreamHost])).toEqual([
      ['/strm/stream', 206, 'STRM_UPSTREAM_FAILED', 'the upstream body broke off', null, null],
      ['/strm/stream', 401, 'HTTP_401', '', null, null],
      ['seg3.ts', 403, 'STRM_UPSTREAM_FAILED', 'the upstream answered 403', 'frieren S01E03 · German Dub · aniworld.to · VOE', 'cdn.example'],
    ]);
    expect(failures[0]!.time).toBe(new Date(clock.t).toISOString());
    expect(JSON.stringify(failures)).not.toMatch(/SEALEDTOKEN|sig=/);
  });

  test('keeps the newest maxFailures failures', () => {
    const { board } = boardWithClock({ maxFailures: 3 });
    for (let i = 1; i <= 5; i += 1) {
      board.recordFailure({ time: '', episode: null, client: '', route: 'stream', path: '', status: 502, code: `STRM_${i}`, cause: '', upstreamHost: null });
    }
    expect(board.snapshot().failures.map((failure) => failure.code)).toEqual(['STRM_5', 'STRM_4', 'STRM_3']);
  });
});

describe('what the board shows of a request', () => {
  test.each([
    ['/strm/stream?site=aniworld.to&slug=x&sig=abc', '/strm/stream'],
    ['/strm/stream', '/strm/stream'],
    ['/strm/proxy/AAAAsealedtoken/seg3.ts', 'seg3.ts'],
    ['/strm/proxy/AAAAsealedtoken/master.m3u8?x=1', 'master.m3u8'],
    [`/strm/stream?${'a'.repeat(300)}`, '/strm/stream'],
  ])('shownPath(%j) is %j', (url, shown) => {
    expect(shownPath(url)).toBe(shown);
  });

  test.each([
    [frieren, 'frieren S01E03 · German Dub · aniworld.to'],
    [{ ...frieren, season: 0, episode: 120, provider: 'VOE' }, 'frieren S00E120 · German Dub · aniworld.to · VOE'],
  ])('episodeLabel(%j) is %j', (identity, label) => {
    expect(episodeLabel(identity)).toBe(label);
  });
});
