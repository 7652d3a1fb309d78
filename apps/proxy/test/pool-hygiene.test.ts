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
