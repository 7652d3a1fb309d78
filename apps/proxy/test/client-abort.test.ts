import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ClientAbort, pauseUnlessAborted } from '../src/client-abort';
import { createUpstreamFetcher } from '../src/upstream';
import { startServer, type TestServer } from './support/servers';

// A client request's ClientAbort is what undici is given as `signal` for every upstream request
// made for it: aborting it must stop those requests as an AbortSignal does, before and after the
// upstream's headers, and a finished request must leave nothing listening.
let origin: TestServer;
/** Requests to /held: their answers wait (headers or body) until the test is done with them. */
const held: Array<() => void> = [];

beforeAll(async () => {
  origin = await startServer((req, res) => {
    if (req.url === '/silent') {
      held.push(() => res.destroy());
      return;
    }
    if (req.url === '/reset') {
      res.socket?.destroy();
      return;
    }
    if (req.url === '/first-chunk') {
      res.writeHead(200, { 'content-length': '2000' });
      res.write(Buffer.alloc(1000));
      held.push(() => res.destroy());
      return;
    }
    res.end('done');
  });
});

afterAll(async () => {
  for (const release of held) release();
  await origin?.close();
});

const fetcher = () => createUpstreamFetcher({ allowlist: ['127.0.0.1'], timeoutMs: 5000 });

describe('ClientAbort as the signal of upstream requests', () => {
  test('aborted while the upstream has not answered: the request fails with an AbortError and its connection closes', async () => {
    const upstream = fetcher();
    const abort = new ClientAbort();
    const acceptedBefore = origin.connections();
    const answer = upstream.fetch({ url: `${origin.origin}/silent`, method: 'GET', headers: {}, signal: abort });
    await expect.poll(() => origin.requests.filter((request) => request.path === '/silent').length).toBe(1);
    abort.abort();
    await expect(answer).rejects.toMatchObject({ name: 'AbortError' });
    // Every connection accepted so far closed, the held one included.
    await origin.socketsClosed(acceptedBefore + 1);
    expect(abort.listenerCount('abort')).toBe(0);
    await upstream.close();
  });

  test('aborted in the middle of the body: the body fails with an AbortError', async () => {
    const upstream = fetcher();
    const abort = new ClientAbort();
    const response = await upstream.fetch({ url: `${origin.origin}/first-chunk`, method: 'GET', headers: {}, signal: abort });
    const reading = (async () => {
      for await (const _chunk of response.body) abort.abort();
    })();
    await expect(reading).rejects.toMatchObject({ name: 'AbortError' });
    await upstream.close();
  });

  test('a request whose upstream connection broke before an answer leaves no listener on it', async () => {
    const upstream = fetcher();
    const abort = new ClientAbort();
    await expect(upstream.fetch({ url: `${origin.origin}/reset`, method: 'GET', headers: {}, signal: abort })).rejects.toThrow();
    expect(abort.listenerCount('abort')).toBe(0);
    await upstream.close();
  });

  test('a request that finished leaves no listener on it, and a second abort does nothing', async () => {
    const upstream = fetcher();
    const abort = new ClientAbort();
    const response = await upstream.fetch({ url: `${origin.origin}/done`, method: 'GET', headers: {}, signal: abort });
    expect(await response.body.text()).toBe('done');
    // undici takes its listener off when the body closes.
    if (!response.body.closed) await once(response.body, 'close');
    expect(abort.listenerCount('abort')).toBe(0);
    abort.abort();
    const reason = abort.reason;
    abort.abort();
    expect(abort.reason).toBe(reason);
    expect(() => abort.throwIfAborted()).toThrow(reason as Error);
    await upstream.close();
  });
});

describe('pauseUnlessAborted', () => {
  test.each([
    ['a ClientAbort', () => { const abort = new ClientAbort(); return { signal: abort, abort: () => abort.abort() }; }],
    ['an AbortSignal', () => { const controller = new AbortController(); return { signal: controller.signal, abort: () => controller.abort() }; }],
  ])('with %s: ends when aborted, at once when aborted before, and after its time otherwise', async (_name, make) => {
    const first = make();
    // A minute's pause that only the abort can end within the test's time limit.
    const paused = pauseUnlessAborted(60_000, first.signal);
    first.abort();
    await paused;
    await pauseUnlessAborted(60_000, first.signal);
    const second = make();
    const started = performance.now();
    await pauseUnlessAborted(30, second.signal);
    // Timers may fire up to a millisecond early by the clock they are compared with.
    expect(performance.now() - started).toBeGreaterThanOrEqual(29);
    if (second.signal instanceof ClientAbort) expect(second.signal.listenerCount('abort')).toBe(0);
  });
});
