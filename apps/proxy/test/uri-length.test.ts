import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { randomText } from '../../../tools/testing/random-text';
import { MAX_REFERENCE_BYTES } from '../src/reference-base';
import { fetchAll, mediaBytes, serveBytes, startResolver, startServer, startTestProxy, type TestProxy, type TestResolver, type TestServer } from './support/servers';

// Real CDN URLs carry long signed queries and hosters want a Cookie, a Referer and a User-Agent.
// Every rewritten URI must stay under FFmpeg's 4096-byte URL limit for upstream URLs up to 2 KB and
// resolver headers up to 1 KB, and past what fits the proxy says so instead of handing out a URI
// that a player cuts. The characters are random, so that compression gets no help from repeats.

const QUERY_CHARACTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~';
const HEADER_CHARACTERS = Array.from({ length: 94 }, (_, i) => String.fromCharCode(33 + i)).join('');

const SEGMENT = mediaBytes(3000);
let origin: TestServer;
let resolver: TestResolver;
let proxy: TestProxy;

/** A path of `/<name>?t=<random>` whose absolute URL on the origin is exactly `length` bytes. */
const longPath = (name: string, length: number, seed: number) => {
  const fixed = `${origin.origin}/${name}?t=`.length;
  return `/${name}?t=${randomText(length - fixed, QUERY_CHARACTERS, seed)}`;
};

// 1 KB of headers in all: names, ': ' and values, as a resolver hands them out.
const HEADERS = {
  Referer: `https://hoster.example/e/${randomText(40, QUERY_CHARACTERS, 11)}`,
  'User-Agent': 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
  Cookie: '',
};
HEADERS.Cookie = randomText(1024 - Object.entries(HEADERS).reduce((sum, [name, value]) => sum + name.length + 2 + value.length, 0), HEADER_CHARACTERS, 12);

beforeAll(async () => {
  origin = await startServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://cdn').pathname;
    if (path.endsWith('.m3u8')) {
      const size = Number(/(\d+)\.m3u8$/.exec(path)?.[1] ?? '2048');
      const variant = longPath('variant.m3u8', size, 3);
      const body = path.startsWith('/master')
        ? `#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\n${origin.origin}${variant}\n`
        : `#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXT-X-KEY:METHOD=AES-128,URI="${origin.origin}${longPath('k.key', size, 4)}",IV=0x00000000000000000000000000000001\n#EXTINF:4,\n${origin.origin}${longPath('seg0.ts', size, 5)}\n#EXT-X-ENDLIST\n`;
      res.writeHead(200, { 'content-type': 'application/vnd.apple.mpegurl' });
      res.end(body);
      return;
    }
    serveBytes(req, res, SEGMENT, { contentType: 'video/mp2t' });
  });
  resolver = await startResolver([
    { slug: 'long', url: () => `${origin.origin}${longPath('master2048.m3u8', 2048, 1)}`, headers: HEADERS },
    { slug: 'too-long', url: () => `${origin.origin}/master6000.m3u8`, headers: HEADERS },
  ]);
  proxy = await startTestProxy(resolver);
});

afterAll(async () => {
  await proxy?.close(0);
  await resolver?.close();
  await origin?.close();
});

const uris = (playlist: string) =>
  playlist.split('\n').flatMap((line) => (line.startsWith('#') ? [...line.matchAll(/URI="([^"]*)"/g)].map((m) => m[1]!) : line === '' ? [] : [line]));

describe('rewritten URIs stay under FFmpeg\'s MAX_URL_SIZE (4096 bytes)', () => {
  test('2 KB upstream URLs and 1 KB of resolver headers: every URI, behind a front with a port and a prefix, fits and works', async () => {
    const front = { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'media.example.com:8443', 'x-forwarded-prefix': '/anime' };
    const toProxy = (uri: string) => `${proxy.url}${new URL(uri).pathname.replace(/^\/anime/, '')}`;
    const master = await fetchAll(proxy.entryUrl('long'), { headers: front });
    expect(master.status).toBe(200);
    const [variant] = uris(master.body.toString('utf8'));
    const media = await fetchAll(toProxy(variant!), { headers: front });
    expect(media.status).toBe(200);
    const all = [variant!, ...uris(media.body.toString('utf8'))];
    expect(all).toHaveLength(3);
    const longest = Math.max(...all.map((uri) => Buffer.byteLength(uri)));
    const longestLine = Math.max(...media.body.toString('utf8').split('\n').map((line) => Buffer.byteLength(line)));
    console.log(`uri length: upstream URLs of 2048 bytes, headers of 1024 bytes → longest URI ${longest} bytes, longest playlist line ${longestLine} bytes (limit ${MAX_REFERENCE_BYTES} / 4095)`);
    expect(longest).toBeLessThanOrEqual(MAX_REFERENCE_BYTES);
    expect(longestLine).toBeLessThan(4096);
    // The URIs carry everything: the segment comes back with the resolver's headers.
    const before = origin.requests.length;
    const segment = await fetchAll(toProxy(all[2]!), { headers: front });
    expect(segment.status).toBe(200);
    expect(segment.body.equals(SEGMENT)).toBe(true);
    expect(origin.requests.slice(before).map((request) => request.headers.cookie)).toEqual([HEADERS.Cookie]);
  });

  test('past what fits (a 6 KB upstream URL): 502 STRM_URI_TOO_LONG, never a URI a player would cut', async () => {
    const response = await fetchAll(proxy.entryUrl('too-long'));
    expect(response.status).toBe(502);
    expect(response.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(response.json().error.code).toBe('STRM_URI_TOO_LONG');
  });
});
