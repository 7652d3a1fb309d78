import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { request } from 'undici';
import { fetchAll, mediaBytes, serveBytes, startResolver, startServer, startTestProxy, type TestProxy, type TestResolver, type TestServer } from './support/servers';

const BIG = mediaBytes(4 * 1024 * 1024);
const validGenerations = new Set<number>([1]);
let dropsLeft = 0;
let diesServed = false;
let markEndlessClosed: () => void = () => {};
const endlessClosed = new Promise<void>((resolve) => {
  markEndlessClosed = resolve;
});

let origin: TestServer;
let resolver: TestResolver;
let proxy: TestProxy;

beforeAll(async () => {
  origin = await startServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://cdn');
    if (url.pathname === '/expiring.mp4') {
      // A signed CDN URL: only the newest generation is valid.
      if (!validGenerations.has(Number(url.searchParams.get('gen')))) {
        res.writeHead(403);
        res.end();
        return;
      }
      return serveBytes(req, res, BIG);
    }
    if (url.pathname === '/drops.mp4') {
      if (dropsLeft > 0 && req.method === 'GET') {
        // Send the headers and part of the body, then cut the connection.
        dropsLeft -= 1;
        const range = /^bytes=(\d+)-/.exec(String(req.headers.range ?? ''));
        const start = range ? Number(range[1]) : 0;
        res.writeHead(range ? 206 : 200, {
          'content-type': 'video/mp4',
          etag: '"v1"',
          'content-length': String(BIG.length - start),
          ...(range ? { 'content-range': `bytes ${start}-${BIG.length - 1}/${BIG.length}` } : {}),
        });
        res.write(BIG.subarray(start, start + 300_000), () => res.destroy());
        return;
      }
      return serveBytes(req, res, BIG);
    }
    if (url.pathname === '/dies.mp4') {
      // Half a body, then the origin is gone for good.
      if (diesServed) {
        res.writeHead(503);
        res.end();
        return;
      }
      diesServed = true;
      res.writeHead(200, { 'content-type': 'video/mp4', etag: '"v1"', 'content-length': String(BIG.length) });
      res.write(BIG.subarray(0, 300_000), () => res.destroy());
      return;
    }
    if (url.pathname === '/endless.mp4') {
      res.once('close', () => markEndlessClosed());
      res.writeHead(200, { 'content-type': 'video/mp4', 'content-length': String(BIG.length * 100) });
      const pump = () => {
        while (res.write(BIG)) { /* fill the socket */ }
        res.once('drain', pump);
      };
      res.on('close', () => res.off('drain', pump));
      pump();
      return;
    }
    res.writeHead(404);
    res.end();
  });
  resolver = await startResolver([
    { slug: 'expiring', url: ({ count }) => `${origin.origin}/expiring.mp4?gen=${count}` },
    { slug: 'drops', url: () => `${origin.origin}/drops.mp4` },
    { slug: 'dies', url: () => `${origin.origin}/dies.mp4` },
    { slug: 'endless', url: () => `${origin.origin}/endless.mp4` },
  ]);
  proxy = await startTestProxy(resolver);
});

afterAll(async () => {
  await proxy?.close(0);
  await resolver?.close();
  await origin?.close();
});

describe('refresh on failure', () => {
  test('a URL that went stale: exactly one re-resolution, and the client sees only success', async () => {
    // The first resolution (gen=1) is cached and valid...
    expect((await fetchAll(proxy.entryUrl('expiring'), { headers: { range: 'bytes=0-9' } })).status).toBe(206);
    // ...then the CDN rotates its signature: gen=1 is refused, gen=2 (the next resolution) is valid.
    validGenerations.clear();
    validGenerations.add(2);
    const concurrent = await Promise.all(
      Array.from({ length: 20 }, (_, i) => fetchAll(proxy.entryUrl('expiring'), { headers: { range: `bytes=${i * 10}-${i * 10 + 9}` } })),
    );
    for (const [i, response] of concurrent.entries()) {
      expect(response.status).toBe(206);
      expect(response.body.equals(BIG.subarray(i * 10, i * 10 + 10))).toBe(true);
    }
    expect(resolver.calls.get('expiring')).toEqual({ total: 2, refreshes: 1 });
  });
});

describe('resume instead of truncate', () => {
  test('the upstream cuts the connection twice mid-body: the client still gets every byte, identical', async () => {
    dropsLeft = 2;
    const before = origin.requests.length;
    const response = await fetchAll(proxy.entryUrl('drops'));
    expect(response.status).toBe(200);
    expect(response.body.length).toBe(BIG.length);
    expect(response.body.equals(BIG)).toBe(true);
    const ranges = origin.requests.slice(before).map((r) => [r.headers.range, r.headers['if-range']]);
    expect(ranges).toEqual([[undefined, undefined], ['bytes=300000-4194303', '"v1"'], ['bytes=600000-4194303', '"v1"']]);
  });

  test('a resumed range request keeps its bounds', async () => {
    dropsLeft = 1;
    const response = await fetchAll(proxy.entryUrl('drops'), { headers: { range: 'bytes=1000-' } });
    expect(response.status).toBe(206);
    expect(response.body.equals(BIG.subarray(1000))).toBe(true);
  });

  test('when the rest cannot be had, the client connection is aborted (no short body that looks complete)', async () => {
    const response = await request(proxy.entryUrl('dies'));
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-length']).toBe(String(BIG.length));
    await expect(response.body.arrayBuffer()).rejects.toThrow();
  });
});

describe('client aborts', () => {
  test('a client that goes away closes the upstream socket at once', async () => {
    const controller = new AbortController();
    const response = await request(proxy.entryUrl('endless'), { signal: controller.signal });
    expect(response.statusCode).toBe(200);
    // Read a little, then leave: the origin's response must be closed (it never ends by itself).
    for await (const _chunk of response.body) break;
    controller.abort();
    await endlessClosed;
    const line = await proxy.waitForLog((entry) => entry.msg === 'request' && entry.aborted === true);
    expect(line).toMatchObject({ aborted: true, status: 200 });
  });
});
