import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { signedEntryUrl } from '@strm/signing';
import { fetchAll, mediaBytes, SECRET, serveBytes, startResolver, startServer, startTestProxy, type TestProxy, type TestResolver, type TestServer } from './support/servers';

const MEDIA = mediaBytes(100_000);

let burstSeen = 0;
let origin: TestServer;
let resolver: TestResolver;
let proxy: TestProxy;

beforeAll(async () => {
  origin = await startServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (path === '/video.mp4') return serveBytes(req, res, MEDIA);
    if (path === '/ignores-range.mp4') return serveBytes(req, res, MEDIA, { ignoreRange: true });
    if (path === '/no-head.mp4') {
      if (req.method === 'HEAD') {
        res.writeHead(405);
        res.end();
        return;
      }
      return serveBytes(req, res, MEDIA);
    }
    if (path === '/needs-referer.mp4') {
      if (req.headers.referer !== 'https://provider.example/') {
        res.writeHead(403);
        res.end();
        return;
      }
      return serveBytes(req, res, MEDIA);
    }
    if (path === '/wrong-range.mp4') {
      res.writeHead(206, { 'content-range': `bytes 0-9/${MEDIA.length}`, 'content-length': '10' });
      res.end(MEDIA.subarray(0, 10));
      return;
    }
    if (path === '/gone.mp4') {
      res.writeHead(410);
      res.end();
      return;
    }
    if (path === '/burst.mp4') {
      // A burst of 503s, then the origin recovers.
      burstSeen += 1;
      if (burstSeen <= 2) {
        res.writeHead(503);
        res.end();
        return;
      }
      return serveBytes(req, res, MEDIA);
    }
    if (path === '/down.mp4') {
      res.writeHead(503);
      res.end();
      return;
    }
    if (path === '/hangs.mp4') return; // never answers: the proxy's timeout must
    res.writeHead(404);
    res.end();
  });
  const at = (path: string) => () => `${origin.origin}${path}`;
  resolver = await startResolver([
    { slug: 'video', url: at('/video.mp4') },
    { slug: 'ignores-range', url: at('/ignores-range.mp4') },
    { slug: 'no-head', url: at('/no-head.mp4') },
    { slug: 'referer', url: at('/needs-referer.mp4'), headers: { Referer: 'https://provider.example/' } },
    { slug: 'wrong-range', url: at('/wrong-range.mp4') },
    { slug: 'gone', url: at('/gone.mp4') },
    { slug: 'hangs', url: at('/hangs.mp4') },
    { slug: 'burst', url: at('/burst.mp4') },
    { slug: 'down', url: at('/down.mp4') },
    { slug: 'refused', url: () => 'http://127.0.0.2:9/video.mp4' },
  ]);
  proxy = await startTestProxy(resolver, { STRM_PROXY_UPSTREAM_TIMEOUT_MS: '500' });
});

afterAll(async () => {
  await proxy?.close(0);
  await resolver?.close();
  await origin?.close();
});

describe('GET /strm/stream: ranges end to end', () => {
  test('no Range: 200 with the whole body and only the allowed upstream headers', async () => {
    const response = await fetchAll(proxy.entryUrl('video'));
    expect(response.status).toBe(200);
    expect(response.body.equals(MEDIA)).toBe(true);
    expect(response.headers).toMatchObject({ 'content-type': 'video/mp4', 'content-length': String(MEDIA.length), 'accept-ranges': 'bytes', etag: '"v1"' });
    expect(response.headers['set-cookie']).toBeUndefined();
    expect(response.headers.server).toBeUndefined();
    expect(response.headers['access-control-allow-origin']).toBe('*');
  });

  test.each([
    ['bytes=0-99', 0, 99],
    ['bytes=500-', 500, MEDIA.length - 1],
    ['bytes=-300', MEDIA.length - 300, MEDIA.length - 1],
    ['bytes=99990-200000', 99_990, MEDIA.length - 1],
  ])('Range %s → 206 with exactly those bytes', async (range, start, end) => {
    for (const slug of ['video', 'ignores-range']) {
      const response = await fetchAll(proxy.entryUrl(slug), { headers: { range } });
      expect(response.status, slug).toBe(206);
      expect(response.headers['content-range'], slug).toBe(`bytes ${start}-${end}/${MEDIA.length}`);
      expect(response.headers['content-length'], slug).toBe(String(end - start + 1));
      expect(response.body.equals(MEDIA.subarray(start, end + 1)), slug).toBe(true);
    }
  });

  test('Range beyond the end → 416 with bytes */size', async () => {
    for (const slug of ['video', 'ignores-range']) {
      const response = await fetchAll(proxy.entryUrl(slug), { headers: { range: 'bytes=100000-' } });
      expect(response.status, slug).toBe(416);
      expect(response.headers['content-range'], slug).toBe(`bytes */${MEDIA.length}`);
      expect(response.json().error.code, slug).toBe('STRM_RANGE_NOT_SATISFIABLE');
    }
  });

  test('an upstream 206 with other bytes than asked is never passed on', async () => {
    const response = await fetchAll(proxy.entryUrl('wrong-range'), { headers: { range: 'bytes=50-59' } });
    expect(response.status).toBe(502);
    expect(response.json().error.code).toBe('STRM_UPSTREAM_BAD_RANGE');
  });

  test('If-Range with a stale ETag gets the whole body (200)', async () => {
    const response = await fetchAll(proxy.entryUrl('video'), { headers: { range: 'bytes=0-9', 'if-range': '"old"' } });
    expect(response.status).toBe(200);
    expect(response.body.equals(MEDIA)).toBe(true);
  });

  test('the resolver headers (Referer) reach the upstream; client credentials never do', async () => {
    const before = origin.requests.length;
    const response = await fetchAll(proxy.entryUrl('referer'), { headers: { cookie: 'jellyfin=1', authorization: 'Bearer x', 'x-api-key': 'k' } });
    expect(response.status).toBe(200);
    const seen = origin.requests.slice(before).find((r) => r.path === '/needs-referer.mp4')!;
    expect(seen.headers.referer).toBe('https://provider.example/');
    expect(seen.headers.cookie).toBeUndefined();
    expect(seen.headers.authorization).toBeUndefined();
    expect(seen.headers['x-api-key']).toBeUndefined();
  });
});

describe('HEAD /strm/stream', () => {
  test('HEAD is passed as HEAD', async () => {
    const response = await fetchAll(proxy.entryUrl('video'), { method: 'HEAD' });
    expect(response.status).toBe(200);
    expect(response.headers['content-length']).toBe(String(MEDIA.length));
    expect(response.body.length).toBe(0);
  });

  test('an upstream that refuses HEAD (405): a one-byte GET gives the full headers', async () => {
    const before = origin.requests.length;
    const response = await fetchAll(proxy.entryUrl('no-head'), { method: 'HEAD' });
    expect(response.status).toBe(200);
    expect(response.headers['content-length']).toBe(String(MEDIA.length));
    expect(response.headers['content-type']).toBe('video/mp4');
    expect(response.headers['accept-ranges']).toBe('bytes');
    expect(response.headers['content-range']).toBeUndefined();
    const asked = origin.requests.slice(before).map((r) => `${r.method} ${r.headers.range ?? ''}`);
    expect(asked).toEqual(['HEAD ', 'GET bytes=0-0']);
  });
});

describe('errors of the proxy its own', () => {
  test.each([
    ['a missing slug', { slug: '' }, 400, 'STRM_BAD_PARAMETER', /slug/],
    ['a season that is not a number', { s: 'one' }, 400, 'STRM_BAD_PARAMETER', /\bs\b/],
    ['an episode unknown to the resolver', { slug: 'unknown-episode' }, 404, 'STRM_EPISODE_NOT_FOUND', /resolver/],
  ])('%s → %i %s', async (_label, params, status, code, message) => {
    const response = await fetchAll(signedEntryUrl(`${proxy.url}/strm/stream`, { site: 'aniworld.to', slug: 'video', s: 1, e: 1, lang: 'German Dub', ...params }, SECRET));
    expect(response.status).toBe(status);
    const { error } = response.json();
    expect(error.code).toBe(code);
    expect(error.message).toMatch(message);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
  });

  test('an upstream that answers 410 twice: one refresh, then the 410 is passed through', async () => {
    const response = await fetchAll(proxy.entryUrl('gone'));
    expect(response.status).toBe(410);
    expect(response.json().error.code).toBe('STRM_UPSTREAM_FAILED');
    expect(resolver.calls.get('gone')).toEqual({ total: 2, refreshes: 1 });
  });

  test('a burst of 503s is ridden out by asking the same URL again (no re-resolution)', async () => {
    const response = await fetchAll(proxy.entryUrl('burst'));
    expect(response.status).toBe(200);
    expect(response.body.equals(MEDIA)).toBe(true);
    expect(burstSeen).toBe(3);
    expect(resolver.calls.get('burst')).toEqual({ total: 1, refreshes: 0 });
  });

  test('an origin that stays at 503 → the 503 is passed on after three tries', async () => {
    const before = origin.requests.filter((r) => r.path === '/down.mp4').length;
    const response = await fetchAll(proxy.entryUrl('down'));
    expect(response.status).toBe(503);
    expect(response.json().error.code).toBe('STRM_UPSTREAM_FAILED');
    expect(origin.requests.filter((r) => r.path === '/down.mp4').length - before).toBe(3);
  });

  test('an upstream that never answers → 504 after the timeout and one refresh', async () => {
    const response = await fetchAll(proxy.entryUrl('hangs'));
    expect(response.status).toBe(504);
    expect(response.json().error.code).toBe('STRM_UPSTREAM_TIMEOUT');
    expect(resolver.calls.get('hangs')?.refreshes).toBe(1);
  });

  test('an upstream on an address that is not allowlisted → 502, never contacted, not refreshed', async () => {
    const response = await fetchAll(proxy.entryUrl('refused'));
    expect(response.status).toBe(502);
    const { error } = response.json();
    expect(error.code).toBe('STRM_UPSTREAM_REFUSED');
    expect(error.message).toMatch(/loopback/);
    expect(resolver.calls.get('refused')).toEqual({ total: 1, refreshes: 0 });
  });

  test('unknown endpoints and methods get JSON errors', async () => {
    expect((await fetchAll(`${proxy.url}/nope`)).json().error.code).toBe('STRM_NOT_FOUND');
    const { request } = await import('undici');
    const post = await request(proxy.entryUrl('video'), { method: 'POST' });
    expect(post.statusCode).toBe(405);
    expect(((await post.body.json()) as { error: { code: string } }).error.code).toBe('STRM_METHOD_NOT_ALLOWED');
  });

  test('the resolver down → 502 STRM_RESOLVER_FAILED', async () => {
    const deadResolver = await startServer(() => {});
    const dead = await startTestProxy({ origin: deadResolver.origin });
    await deadResolver.close();
    try {
      const response = await fetchAll(dead.entryUrl('video'));
      expect(response.status).toBe(502);
      expect(response.json().error.code).toBe('STRM_RESOLVER_FAILED');
    } finally {
      await dead.close(0);
    }
  });
});

describe('logs', () => {
  test('one line per request, with no signature, token or upstream URL', async () => {
    await fetchAll(proxy.entryUrl('video'), { headers: { range: 'bytes=0-0' } });
    const lines = proxy.logs.filter((line) => line.msg === 'request' && line.route === 'stream');
    expect(lines.length).toBeGreaterThan(0);
    const last = lines.at(-1)!;
    expect(last).toMatchObject({ status: 206, bytes: 1, upstreamStatus: 206, path: '/strm/stream' });
    const all = JSON.stringify(proxy.logs);
    expect(all).not.toContain('sig=');
    expect(all).not.toContain(SECRET);
    expect(all).not.toContain('/video.mp4');
  });
});
