import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { request } from 'undici';
import { connectionsSoFar } from '../../../tools/testing/connection-count';
import { createUpstreamFetcher } from '../src/upstream';
import { mediaBytes, serveBytes, startResolver, startServer, startTestProxy, type TestProxy, type TestResolver, type TestServer } from './support/servers';

// Upstream connections around client aborts (docs/architecture.md, "The byte path"): an aborted
// request opens no connection of its own, and the sockets of aborted bodies are closed at once,
// not left idle in the pool until its keep-alive timeout (10 s).
const BIG = mediaBytes(16 * 1024 * 1024);
const BURST = 20;

let origin: TestServer;
let resolver: TestResolver;
let proxy: TestProxy;
beforeAll(async () => {
  origin = await startServer((req, res) => serveBytes(req, res, BIG));
  resolver = await startResolver([{ slug: 'big', url: () => `${origin.origin}/big.mp4` }]);
  proxy = await startTestProxy(resolver);
});
afterAll(async () => {
  await proxy?.close(0);
  await resolver?.close();
  await origin?.close();
});

/** Connections the origin accepted so far (see `connectionsSoFar`). */
const originConnections = () => connectionsSoFar(() => origin.connections(), `${origin.origin}/big.mp4`);

/** Reads the first chunk of a response through the proxy, then leaves. */
async function readALittleAndAbort(url: string): Promise<number> {
  const controller = new AbortController();
  const response = await request(url, { signal: controller.signal });
  for await (const _chunk of response.body) break;
  controller.abort();
  return response.statusCode;
}

describe('upstream connections around client aborts', () => {
  test(`a burst of ${BURST} aborts mid-stream: one upstream connection each, all closed at once, none opened afterwards`, async () => {
    const before = { accepted: origin.connections(), open: origin.openSockets() };
    const logFrom = proxy.logs.length;
    const statuses = await Promise.all(Array.from({ length: BURST }, () => readALittleAndAbort(proxy.entryUrl('big'))));
    expect(statuses).toEqual(statuses.map(() => 200));
    const started = Date.now();
    await origin.socketsClosed(before.accepted + BURST - before.open);
    const closedWithinMs = Date.now() - started;
    // Every aborted request has written its log line: the proxy is done with all of them.
    await Promise.all(Array.from({ length: BURST }, (_, i) => proxy.waitForLog((line) => line.msg === 'request' && line.aborted === true && proxy.logs.indexOf(line) >= logFrom + i)));
    const openAfter = origin.openSockets();
    const opened = (await originConnections()) - before.accepted;
    console.log(`pool hygiene: ${BURST} aborts, ${opened} upstream connections opened, closed within ${closedWithinMs} ms, ${openAfter} open after (${before.open} before)`);
    expect(opened).toBe(BURST);
    // Well under the pool's keep-alive timeout (10 s): the sockets were closed, not left to expire.
    expect(closedWithinMs).toBeLessThan(5000);
    expect(openAfter).toBe(before.open);
  });

  test('at the connection cap, a viewer waiting for a connection gets one when a stream ahead of it is aborted, never past the cap, and the pool closes', async () => {
    const fetcher = createUpstreamFetcher({ allowlist: ['127.0.0.1'], timeoutMs: 5000, connectionsPerOrigin: 2 });
    const controllers = Array.from({ length: 6 }, () => new AbortController());
    const fetchViewer = (index: number) => fetcher.fetch({ url: `${origin.origin}/big.mp4`, method: 'GET', headers: {}, signal: controllers[index]!.signal });
    const fetches = [0, 1, 2, 3, 4].map(fetchViewer);
    // Bounded: a stalled viewer is a failure within 5 s, not a hung test.
    const within = <T>(promise: Promise<T>, what: string) =>
      Promise.race([promise, new Promise<never>((_resolve, reject) => setTimeout(() => reject(new Error(`${what}: no answer within 5 s`)), 5000).unref())]);
    const answered: number[] = [];
    const failures: string[] = [];
    const answer = async (index: number, what: string) => {
      const response = await within(fetches[index]!, what).catch((error: Error) => void failures.push(error.message));
      if (!response) return;
      response.body.on('error', () => {}); // the aborts below end the bodies unread
      answered.push(index + 1);
    };
    // Viewers 1 and 2 hold both connections; viewer 3 gets one when viewer 1 leaves, 4 when 2 does.
    await answer(0, 'viewer 1 of 6 (cap 2)');
    await answer(1, 'viewer 2');
    controllers[0]!.abort();
    await answer(2, 'viewer 3 once viewer 1 left');
    controllers[1]!.abort();
    await answer(3, 'viewer 4 once viewer 2 left');
    // Viewers 3 and 4 stream; 5 waits, and so must 6, asked now: a pool that lost count of the
    // connections its aborted streams were replaced by would open one for it at once. (An
    // observation over 1 s: it can miss a fault on a machine too starved to connect in that time,
    // never invent one.)
    fetches.push(fetchViewer(5));
    const early = await Promise.race([
      Promise.race([fetches[4]!, fetches[5]!]).then(() => 'answered'),
      new Promise<string>((resolve) => setTimeout(() => resolve('waiting'), 1000).unref()),
    ]);
    controllers[2]!.abort();
    await answer(4, 'viewer 5 once viewer 3 left');
    controllers[3]!.abort();
    await answer(5, 'viewer 6 once viewer 4 left');
    for (const controller of controllers) controller.abort();
    // A request still queued in undici ignores its signal: the settling is bounded too.
    await within(Promise.allSettled(fetches), 'the aborted requests settle').catch((error: Error) => failures.push(error.message));
    // The pool closes once every aborted request is gone: a refusal answered too early left one pending.
    await within(fetcher.close(), 'closing the pool after the aborts').catch((error: Error) => failures.push(error.message));
    expect(failures).toEqual([]);
    expect(early, 'viewers 5 and 6 while two streams held the cap').toBe('waiting');
    expect(answered).toEqual([1, 2, 3, 4, 5, 6]);
  });

  test('the pool closes right after a stream was aborted (what a shutdown awaits)', async () => {
    const fetcher = createUpstreamFetcher({ allowlist: ['127.0.0.1'], timeoutMs: 5000 });
    const controller = new AbortController();
    const response = await fetcher.fetch({ url: `${origin.origin}/big.mp4`, method: 'GET', headers: {}, signal: controller.signal });
    response.body.on('error', () => {});
    controller.abort();
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      fetcher.close().then(() => 'closed'),
      new Promise<string>((resolve) => (timer = setTimeout(() => resolve('still open after 5 s'), 5000))),
    ]);
    clearTimeout(timer);
    expect(outcome).toBe('closed');
  });

  test('a request whose client already left opens no upstream connection', async () => {
    const fetcher = createUpstreamFetcher({ allowlist: ['127.0.0.1'], timeoutMs: 2000 });
    const before = await originConnections();
    const controller = new AbortController();
    controller.abort();
    await expect(fetcher.fetch({ url: `${origin.origin}/big.mp4`, method: 'GET', headers: {}, signal: controller.signal })).rejects.toThrow(/abort/i);
    await fetcher.close();
    // The only connection since `before` is the count's own.
    expect(await originConnections()).toBe(before + 1);
  });
});
