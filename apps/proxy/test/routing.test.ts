import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { fetchAll, mediaBytes, serveBytes, startResolver, startServer, startTestProxy, type TestProxy, type TestResolver, type TestServer } from './support/servers';

// The router matches the media routes in their plain form first, with a comparison or two; every
// other spelling is matched the way Express matched it before. Both must answer alike: same
// status, bytes, CORS headers, log line.
const SEGMENT = mediaBytes(4000);
let origin: TestServer;
let resolver: TestResolver;
let proxy: TestProxy;
let tokenPath: string;

beforeAll(async () => {
  origin = await startServer((req, res) => {
    if (req.url === '/index.m3u8') {
      res.writeHead(200, { 'content-type': 'application/vnd.apple.mpegurl' });
      res.end('#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXTINF:4,\nseg0.ts\n#EXT-X-ENDLIST\n');
      return;
    }
    serveBytes(req, res, SEGMENT, { contentType: 'video/mp2t' });
  });
  resolver = await startResolver([{ slug: 'list', url: () => `${origin.origin}/index.m3u8` }]);
  proxy = await startTestProxy(resolver);
  const playlist = (await fetchAll(proxy.entryUrl('list'))).body.toString('utf8');
  const reference = playlist.split('\n').find((line) => line.includes('/strm/proxy/'))!;
  tokenPath = new URL(reference).pathname;
});

afterAll(async () => {
  await proxy?.close(0);
  await resolver?.close();
  await origin?.close();
});

describe('media routes answer alike in their plain form and in every other spelling', () => {
  const spellings: [string, (path: string) => string][] = [
    ['plain (matched first)', (path) => path],
    ['trailing slash', (path) => `${path}/`],
    ['percent-encoded first token character', (path) => path.replace(/^\/strm\/proxy\/(.)/, (_, first: string) => `/strm/proxy/%${first.charCodeAt(0).toString(16).toUpperCase()}`)],
    ['upper-case route', (path) => path.replace('/strm/proxy/', '/STRM/PROXY/')],
  ];

  test.each(spellings)('GET %s', async (_name, spell) => {
    const path = spell(tokenPath);
    expect(path === tokenPath).toBe(spell === spellings[0]![1]);
    const response = await fetchAll(`${proxy.url}${path}`, { headers: { range: 'bytes=10-19' } });
    expect(response.status).toBe(206);
    expect(response.body.equals(SEGMENT.subarray(10, 20))).toBe(true);
    expect(response.headers['access-control-allow-origin']).toBe('*');
    expect(response.headers['content-range']).toBe(`bytes 10-19/${SEGMENT.length}`);
    expect(response.headers['x-powered-by']).toBeUndefined();
  });

  test('a plain path with a bad token gets the JSON 401, a POST the 405, an unknown path the 404', async () => {
    const bad = await fetchAll(`${proxy.url}/strm/proxy/not-a-token/seg.ts`);
    expect(bad.status).toBe(401);
    expect(bad.json().error.code).toBe('STRM_TOKEN_INVALID');
    expect(bad.headers['access-control-allow-origin']).toBe('*');
    // Several segments after the token are the sealed DASH form: the token is checked first.
    const three = await fetchAll(`${proxy.url}/strm/proxy/a/b/c`);
    expect(three.status).toBe(401);
    expect(three.json().error.code).toBe('STRM_TOKEN_INVALID');
    const unknown = await fetchAll(`${proxy.url}/strm/elsewhere/a`);
    expect(unknown.status).toBe(404);
    expect(unknown.json().error.code).toBe('STRM_NOT_FOUND');
  });
});
