import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { fetchAll, mediaBytes, serveBytes, startResolver, startServer, startTestProxy, type TestProxy, type TestResolver, type TestServer } from './support/servers';

// Every address here is on this machine. Off-machine ranges are covered by the pure
// classification tests in address-guard.test.ts: no test sends traffic anywhere else.
const SEGMENT = mediaBytes(2000);

let main: TestServer; // 127.0.0.1, allowlisted by the test proxy
let other: TestServer; // 127.0.0.2, not allowlisted
let v6: TestServer; // ::1, not allowlisted
let resolver: TestResolver;

beforeAll(async () => {
  other = await startServer((req, res) => serveBytes(req, res, SEGMENT), '127.0.0.2');
  v6 = await startServer((req, res) => serveBytes(req, res, SEGMENT), '::1');
  main = await startServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    const playlist = (uri: string) => {
      res.writeHead(200, { 'content-type': 'application/vnd.apple.mpegurl' });
      res.end(`#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXTINF:4,\n${uri}\n#EXT-X-ENDLIST\n`);
    };
    switch (path) {
      case '/to-other.m3u8':
        return playlist(`${other.origin}/seg.ts`);
      case '/to-v6.m3u8':
        return playlist(`${v6.origin}/seg.ts`);
      case '/to-unspecified.m3u8':
        return playlist(`http://0.0.0.0:${main.port}/seg.ts`);
      case '/to-localhost.m3u8':
        return playlist(`http://localhost:${main.port}/seg.ts`);
      case '/redirect-to-other.ts':
        res.writeHead(302, { location: `${other.origin}/seg.ts` });
        res.end();
        return;
      case '/to-redirect.m3u8':
        return playlist('/redirect-to-other.ts');
      case '/seg.ts':
        return serveBytes(req, res, SEGMENT);
    }
    res.writeHead(404);
    res.end();
  });
  const slugs = ['to-other', 'to-v6', 'to-unspecified', 'to-localhost', 'to-redirect'];
  resolver = await startResolver(slugs.map((slug) => ({ slug, url: () => `${main.origin}/${slug}.m3u8` })));
});

afterAll(async () => {
  await resolver?.close();
  await Promise.all([main?.close(), other?.close(), v6?.close()]);
});

async function segmentThrough(proxy: TestProxy, slug: string) {
  const entry = proxy.entryUrl(slug);
  const playlist = await fetchAll(entry);
  expect(playlist.status).toBe(200);
  const ref = playlist.body.toString('utf8').split('\n').find((line) => line.includes('/strm/proxy/'))!;
  return fetchAll(new URL(ref, entry).href);
}

describe('the private-address guard (docs/contract.md, Limits)', () => {
  let strict: TestProxy;
  let open: TestProxy;
  beforeAll(async () => {
    strict = await startTestProxy(resolver, { STRM_PROXY_UPSTREAM_ALLOWLIST: '127.0.0.1' });
    open = await startTestProxy(resolver, { STRM_PROXY_UPSTREAM_ALLOWLIST: '127.0.0.1,127.0.0.2,::1,localhost,0.0.0.0' });
  });
  afterAll(async () => {
    await strict?.close(0);
    await open?.close(0);
  });

  test.each([
    ['a playlist URI on 127.0.0.2', 'to-other', /loopback/],
    ['a playlist URI on [::1]', 'to-v6', /loopback/],
    ['a playlist URI on 0.0.0.0', 'to-unspecified', /unspecified/],
    ['a host name whose lookup returns loopback (localhost)', 'to-localhost', /loopback/],
    ['a redirect to 127.0.0.2', 'to-redirect', /loopback/],
  ])('%s is refused unless allowlisted', async (_label, slug, reason) => {
    const otherHits = other.requests.length + v6.requests.length;
    const refused = await segmentThrough(strict, slug);
    expect(refused.status).toBe(502);
    expect(refused.json().error.code).toBe('STRM_UPSTREAM_REFUSED');
    expect(refused.json().error.message).toMatch(reason);
    expect(other.requests.length + v6.requests.length).toBe(otherHits);

    const allowed = await segmentThrough(open, slug);
    expect(allowed.status).toBe(200);
    expect(allowed.body.equals(SEGMENT)).toBe(true);
  });
});
