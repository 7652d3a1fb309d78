import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { request } from 'undici';
import { fetchAll, mediaBytes, serveBytes, startResolver, startServer, startTestProxy, type TestProxy, type TestResolver, type TestServer } from './support/servers';

const MEDIA = mediaBytes(3000);
let origin: TestServer;
let resolver: TestResolver;
let proxy: TestProxy;

beforeAll(async () => {
  origin = await startServer((req, res) => serveBytes(req, res, MEDIA));
  resolver = await startResolver([{ slug: 'video', url: () => `${origin.origin}/v.mp4` }]);
  proxy = await startTestProxy(resolver);
});

afterAll(async () => {
  await proxy?.close(0);
  await resolver?.close();
  await origin?.close();
});

describe('operations endpoints', () => {
  test('/healthz', async () => {
    const response = await fetchAll(`${proxy.url}/healthz`);
    expect(response.status).toBe(200);
    expect(JSON.parse(response.body.toString())).toEqual({ status: 'ok' });
  });

  test('/readyz reports the resolver reachable, then not', async () => {
    const ready = await fetchAll(`${proxy.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(JSON.parse(ready.body.toString())).toMatchObject({ status: 'ready', checks: [{ name: 'resolver', ok: true }] });

    const gone = await startServer(() => {});
    const lonely = await startTestProxy({ origin: gone.origin });
    await gone.close();
    try {
      const unready = await fetchAll(`${lonely.url}/readyz`);
      expect(unready.status).toBe(503);
      expect(JSON.parse(unready.body.toString())).toMatchObject({ status: 'unready', checks: [{ name: 'resolver', ok: false }] });
    } finally {
      await lonely.close(0);
    }
  });

  test('/metrics counts requests, upstream classes, resolver calls and cache hits, bytes and time to first byte', async () => {
    await fetchAll(proxy.entryUrl('video'));
    await fetchAll(proxy.entryUrl('video'), { headers: { range: 'bytes=0-99' } });
    const text = (await fetchAll(`${proxy.url}/metrics`)).body.toString();
    expect(text).toMatch(/strm_requests_total\{route="stream",status="200"\} 1/);
    expect(text).toMatch(/strm_requests_total\{route="stream",status="206"\} 1/);
    expect(text).toMatch(/strm_upstream_responses_total\{class="2xx"\} 2/);
    expect(text).toMatch(/strm_resolver_calls_total\{outcome="ok"\} 1/);
    expect(text).toMatch(/strm_resolver_cache_hits_total 1/);
    expect(text).toMatch(new RegExp(`strm_bytes_out_total\\{route="stream"\\} ${MEDIA.length + 100}`));
    expect(text).toMatch(/strm_time_to_first_byte_seconds_count\{route="stream"\} 2/);
    expect(text).toMatch(/strm_process_resident_memory_bytes/);
  });
});

describe('strm_active_streams', () => {
  test('counts the responses being streamed now', async () => {
    let release: () => void = () => {};
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    const heldOrigin = await startServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'video/mp4', 'content-length': '6' });
      res.write('abc');
      void released.then(() => res.end('def'));
    });
    const heldResolver = await startResolver([{ slug: 'held', url: () => `${heldOrigin.origin}/h.mp4` }]);
    const held = await startTestProxy(heldResolver);
    const gauge = async () => /strm_active_streams (\d+)/.exec((await fetchAll(`${held.url}/metrics`)).body.toString())?.[1];
    try {
      expect(await gauge()).toBe('0');
      const response = await request(held.entryUrl('held'));
      expect(await gauge()).toBe('1');
      release();
      expect(Buffer.from(await response.body.arrayBuffer()).toString()).toBe('abcdef');
      await held.waitForLog((line) => line.msg === 'request' && line.route === 'stream');
      expect(await gauge()).toBe('0');
    } finally {
      release();
      await held.close(0);
      await heldResolver.close();
      await heldOrigin.close();
    }
  });
});

describe('CORS (docs/contract.md, Endpoints: browsers)', () => {
  test('every response allows the origin and exposes the range headers', async () => {
    const response = await fetchAll(proxy.entryUrl('video'), { headers: { origin: 'https://jellyfin.example' } });
    expect(response.headers['access-control-allow-origin']).toBe('*');
    expect(response.headers['access-control-expose-headers']).toBe('Content-Length, Content-Range, Accept-Ranges');
    const error = await fetchAll(`${proxy.url}/strm/stream`);
    expect(error.headers['access-control-allow-origin']).toBe('*');
  });

  test('answers of every kind carry them, each header once', async () => {
    const answers = {
      head: await request(proxy.entryUrl('video'), { method: 'HEAD' }),
      range: await request(proxy.entryUrl('video'), { headers: { range: 'bytes=10-19' } }),
      // Refused after the upstream answered: the JSON error of a media request.
      unsatisfiable: await request(proxy.entryUrl('video'), { headers: { range: 'bytes=5000-' } }),
      badToken: await request(`${proxy.url}/strm/proxy/not-a-token/seg.ts`),
      // Express cannot decode the token: its error answers, not the media route.
      badEncoding: await request(`${proxy.url}/strm/proxy/%E0%A4%A/seg.ts`),
      post: await request(proxy.entryUrl('video'), { method: 'POST' }),
      health: await request(`${proxy.url}/healthz`),
      status: await request(`${proxy.url}/status`),
      unknown: await request(`${proxy.url}/nowhere`),
    };
    const statuses: Record<string, number> = {};
    for (const [name, answer] of Object.entries(answers)) {
      await answer.body.dump();
      statuses[name] = answer.statusCode;
      expect(answer.headers['access-control-allow-origin'], name).toBe('*');
      expect(answer.headers['access-control-expose-headers'], name).toBe('Content-Length, Content-Range, Accept-Ranges');
    }
    expect(statuses).toEqual({ head: 200, range: 206, unsatisfiable: 416, badToken: 401, badEncoding: 400, post: 405, health: 200, status: 404, unknown: 404 });
  });

  test.each([
    ['an entry', () => proxy.entryUrl('video')],
    ['a link whose token Express cannot decode', () => `${proxy.url}/strm/proxy/%E0%A4%A/seg.ts`],
  ])('a preflight for %s is answered 204', async (_name, url) => {
    const response = await request(url(), {
      method: 'OPTIONS',
      headers: { origin: 'https://jellyfin.example', 'access-control-request-method': 'GET', 'access-control-request-headers': 'range' },
    });
    await response.body.dump();
    expect(response.statusCode).toBe(204);
    expect(response.headers['access-control-allow-origin']).toBe('*');
    expect(response.headers['access-control-allow-methods']).toBe('GET, HEAD, OPTIONS');
  });

  test('a preflight for Range is answered 204', async () => {
    const response = await request(proxy.entryUrl('video'), {
      method: 'OPTIONS',
      headers: { origin: 'https://jellyfin.example', 'access-control-request-method': 'GET', 'access-control-request-headers': 'range' },
    });
    await response.body.dump();
    expect(response.statusCode).toBe(204);
    expect(response.headers['access-control-allow-methods']).toBe('GET, HEAD, OPTIONS');
    expect(String(response.headers['access-control-allow-headers'])).toMatch(/Range, If-Range/);
  });

  test('with an origin list, only listed origins are allowed', async () => {
    const listed = await startTestProxy(resolver, { STRM_PROXY_CORS_ORIGINS: 'https://jellyfin.example' });
    try {
      const yes = await fetchAll(listed.entryUrl('video'), { headers: { origin: 'https://jellyfin.example' } });
      expect(yes.headers['access-control-allow-origin']).toBe('https://jellyfin.example');
      expect(yes.headers.vary).toBe('Origin');
      const no = await fetchAll(listed.entryUrl('video'), { headers: { origin: 'https://evil.example' } });
      expect(no.headers['access-control-allow-origin']).toBeUndefined();
      expect(no.headers.vary).toBe('Origin');
      const refused = await fetchAll(`${listed.url}/strm/proxy/not-a-token/seg.ts`, { headers: { origin: 'https://jellyfin.example' } });
      expect(refused.status).toBe(401);
      expect(refused.headers['access-control-allow-origin']).toBe('https://jellyfin.example');
      expect(refused.headers.vary).toBe('Origin');
    } finally {
      await listed.close(0);
    }
  });
});

describe('graceful shutdown', () => {
  test('close() lets a running stream finish and refuses new connections', async () => {
    const slowOrigin = await startServer((req, res) => {
      res.writeHead(200, { 'content-type': 'video/mp4', 'content-length': '6' });
      res.write('abc');
      // The rest comes once the proxy has begun to shut down.
      shutdownStarted.then(() => res.end('def'));
    });
    let markShutdown: () => void = () => {};
    const shutdownStarted = new Promise<void>((resolve) => {
      markShutdown = resolve;
    });
    const slowResolver = await startResolver([{ slug: 'slow', url: () => `${slowOrigin.origin}/s.mp4` }]);
    const stopping = await startTestProxy(slowResolver);
    const response = await request(stopping.entryUrl('slow'));
    const closed = stopping.close(5000);
    markShutdown();
    expect(Buffer.from(await response.body.arrayBuffer()).toString()).toBe('abcdef');
    await closed;
    await expect(request(stopping.entryUrl('slow'))).rejects.toThrow();
    await slowResolver.close();
    await slowOrigin.close();
  });
});
