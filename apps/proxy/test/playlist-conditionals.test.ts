import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { ifNoneMatchHolds, rewrittenEtag } from '../src/held-document';
import { fetchAll, mediaBytes, serveBytes, startResolver, startServer, startTestProxy, type TestProxy, type TestResolver, type TestServer } from './support/servers';

// A Range or a conditional on a playlist or manifest (docs/contract.md, "Playlists"): the
// upstream's 304 or 416 answers the client's headers about the upstream's bytes, but a rewritten
// document is other bytes. The proxy asks again for the whole document, ignores the Range, and
// answers conditionals with a validator of its own output.
const MASTER = '#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=800000\nstatic.m3u8\n#EXT-X-STREAM-INF:BANDWIDTH=400000\nlow/index.m3u8\n';
/** A playlist without URIs: its rewritten form is the same bytes on every fetch. */
const STATIC = '#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:4\n#EXT-X-ENDLIST\n';
const MANIFEST = `<?xml version="1.0"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" mediaPresentationDuration="PT8S" minBufferTime="PT2S" profiles="urn:mpeg:dash:profile:isoff-on-demand:2011">
  <Period><AdaptationSet mimeType="video/mp4"><Representation id="v" bandwidth="1000"><BaseURL>video.mp4</BaseURL></Representation></AdaptationSet></Period>
</MPD>
`;
const MOVIE = mediaBytes(4000);
const UPSTREAM_ETAG = '"upstream-1"';

let origin: TestServer;
let resolver: TestResolver;
let proxy: TestProxy;
/** What the origin answers to a request without conditionals on /rogue.m3u8. */
let rogueStatus = 304;

/**
 * A document the way a CDN serves it: a strong ETag, 304 to a matching If-None-Match (without
 * Content-Type, as nginx does), ranges with 416 past the end (Content-Type of its error page).
 */
function serveDocument(req: IncomingMessage, res: ServerResponse, text: string | Buffer, type: string | undefined): void {
  if (req.headers['if-none-match'] === UPSTREAM_ETAG) {
    res.writeHead(304, { etag: UPSTREAM_ETAG });
    res.end();
    return;
  }
  const bytes = Buffer.isBuffer(text) ? text : Buffer.from(text);
  const range = /^bytes=(\d+)-$/.exec(String(req.headers.range ?? ''));
  if (range !== null && Number(range[1]) >= bytes.length) {
    res.writeHead(416, { 'content-type': 'text/html', 'content-range': `bytes */${bytes.length}`, 'content-length': '9' });
    res.end('<p>416</p'.slice(0, 9));
    return;
  }
  serveBytes(req, res, bytes, { ...(type !== undefined ? { contentType: type } : {}), etag: UPSTREAM_ETAG });
}

beforeAll(async () => {
  origin = await startServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://cdn').pathname;
    switch (path) {
      case '/hls/master.m3u8':
        return serveDocument(req, res, MASTER, 'application/vnd.apple.mpegurl');
      case '/hls/static.m3u8':
        return serveDocument(req, res, STATIC, 'application/vnd.apple.mpegurl');
      // No extension, and the 304 carries no Content-Type: only a HEAD tells what it is.
      case '/hls/master':
        return serveDocument(req, res, MASTER, 'application/vnd.apple.mpegurl');
      case '/dash/manifest.mpd':
        return serveDocument(req, res, MANIFEST, 'application/dash+xml');
      case '/movie':
        return serveDocument(req, res, MOVIE, 'video/mp4');
      case '/hls/rogue-master.m3u8':
        return serveDocument(req, res, '#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nrogue.m3u8\n', 'application/vnd.apple.mpegurl');
      case '/hls/rogue.m3u8':
        res.writeHead(rogueStatus, rogueStatus === 416 ? { 'content-range': 'bytes */50' } : {});
        res.end();
        return;
    }
    res.writeHead(404);
    res.end();
  });
  const at = (path: string) => () => `${origin.origin}${path}`;
  resolver = await startResolver([
    { slug: 'master', url: at('/hls/master.m3u8') },
    { slug: 'plain', url: at('/hls/master') },
    { slug: 'static', url: at('/hls/static.m3u8') },
    { slug: 'dash', url: at('/dash/manifest.mpd') },
    { slug: 'movie', url: at('/movie') },
    { slug: 'rogue', url: at('/hls/rogue-master.m3u8') },
  ]);
  proxy = await startTestProxy(resolver);
});

afterAll(async () => {
  await proxy?.close(0);
  await origin?.close();
  await resolver?.close();
});

beforeEach(() => {
  origin.requests.length = 0;
});

/** What the origin was asked, in order: method, path and the client headers the proxy forwarded. */
const asked = () => origin.requests.map((request) => [request.method, request.path, request.headers['if-none-match'] ?? request.headers.range ?? '']);

/** The proxy link of the first URI of a rewritten playlist. */
const firstLink = (playlist: string) => playlist.split('\n').find((line) => line.startsWith('http'))!;

describe('a conditional or a Range on an entry playlist', () => {
  test('If-None-Match that the upstream answers 304 → the whole rewritten playlist, 200, with the proxy\'s ETag', async () => {
    const response = await fetchAll(proxy.entryUrl('master'), { headers: { 'if-none-match': UPSTREAM_ETAG } });
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toBe('application/vnd.apple.mpegurl');
    const text = response.body.toString('utf8');
    expect(text).toMatch(/^#EXTM3U\n/);
    expect(text).toContain('/strm/proxy/');
    expect(response.headers.etag).toBe(rewrittenEtag(response.body));
    expect(response.headers.etag).not.toBe(UPSTREAM_ETAG);
    expect(asked()).toEqual([['GET', '/hls/master.m3u8', UPSTREAM_ETAG], ['GET', '/hls/master.m3u8', '']]);
  });

  test('Range: bytes=65535- that the upstream answers 416 → the whole rewritten playlist, 200, the Range ignored', async () => {
    const response = await fetchAll(proxy.entryUrl('master'), { headers: { range: 'bytes=65535-' } });
    expect(response.status).toBe(200);
    expect(response.headers['content-range']).toBeUndefined();
    expect(response.headers['accept-ranges']).toBe('none');
    expect(response.body.toString('utf8')).toMatch(/^#EXTM3U\n/);
    expect(Number(response.headers['content-length'])).toBe(response.body.length);
  });

  test('a 304 that does not say it is a playlist (no extension, no Content-Type) → a HEAD tells, then the whole playlist', async () => {
    const response = await fetchAll(proxy.entryUrl('plain'), { headers: { 'if-none-match': UPSTREAM_ETAG } });
    expect(response.status).toBe(200);
    expect(response.body.toString('utf8')).toContain('/strm/proxy/');
    expect(asked()).toEqual([['GET', '/hls/master', UPSTREAM_ETAG], ['HEAD', '/hls/master', ''], ['GET', '/hls/master', '']]);
  });

  test('the proxy\'s ETag comes back in If-None-Match → 304 while the rewritten bytes are the same, without a body', async () => {
    const first = await fetchAll(proxy.entryUrl('static'));
    expect(first.status).toBe(200);
    const etag = first.headers.etag as string;
    expect(etag).toBe(rewrittenEtag(first.body));
    for (const header of [etag, `W/${etag}`, `"other", ${etag}`, '*']) {
      const again = await fetchAll(proxy.entryUrl('static'), { headers: { 'if-none-match': header } });
      expect(again.status, header).toBe(304);
      expect(again.headers.etag).toBe(etag);
      expect(again.body.length).toBe(0);
    }
    const other = await fetchAll(proxy.entryUrl('static'), { headers: { 'if-none-match': '"other"' } });
    expect(other.status).toBe(200);
    expect(other.body.equals(first.body)).toBe(true);
  });

  test('a playlist fetched again has the same links, so If-None-Match → 304, also in the next expiry bucket; half a lifetime later its links changed → 200 with the new bytes and their own ETag', async () => {
    // Links are sealed deterministically within an expiry bucket (an hour at the default lifetime),
    // and a reloaded playlist's links keep their seal time for half the lifetime (seal-times.ts).
    let clock = Date.UTC(2026, 11, 1, 12);
    const clocked = await startTestProxy(resolver, {}, { now: () => clock });
    try {
      const first = await fetchAll(clocked.entryUrl('master'));
      const etag = first.headers.etag as string;
      clock += 30 * 60_000;
      expect((await fetchAll(clocked.entryUrl('master'), { headers: { 'if-none-match': etag } })).status).toBe(304);
      clock += 60 * 60_000;
      expect((await fetchAll(clocked.entryUrl('master'), { headers: { 'if-none-match': etag } })).status).toBe(304);
      clock += 12 * 60 * 60_000;
      const again = await fetchAll(clocked.entryUrl('master'), { headers: { 'if-none-match': etag } });
      expect(again.status).toBe(200);
      expect(again.body.equals(first.body)).toBe(false);
      expect(again.headers.etag).toBe(rewrittenEtag(again.body));
    } finally {
      await clocked.close(0);
    }
  });
});

describe('conditionals and Range on a playlist link', () => {
  test('a child playlist link: the upstream is asked without them; If-None-Match with the proxy\'s ETag → 304; Range → whole 200', async () => {
    const master = await fetchAll(proxy.entryUrl('master'));
    const link = firstLink(master.body.toString('utf8'));
    origin.requests.length = 0;
    const first = await fetchAll(link, { headers: { range: 'bytes=5-10' } });
    expect(first.status).toBe(200);
    expect(first.body.toString('utf8')).toBe(STATIC);
    const again = await fetchAll(link, { headers: { 'if-none-match': first.headers.etag as string, 'if-modified-since': 'Tue, 01 Sep 2026 10:00:00 GMT' } });
    expect(again.status).toBe(304);
    expect(asked()).toEqual([['GET', '/hls/static.m3u8', ''], ['GET', '/hls/static.m3u8', '']]);
  });

  test.each([304, 416])('an upstream that answers %i to a request without conditionals → 502 STRM_UPSTREAM_FAILED, not "the playlist is empty"', async (status) => {
    rogueStatus = status;
    const master = await fetchAll(proxy.entryUrl('rogue'));
    const response = await fetchAll(firstLink(master.body.toString('utf8')));
    expect(response.status).toBe(502);
    expect(response.json().error).toEqual({ code: 'STRM_UPSTREAM_FAILED', message: `the upstream answered ${status}` });
  });
});

describe('a conditional or a Range on an entry DASH manifest', () => {
  test.each<[string, Record<string, string>]>([
    ['If-None-Match (upstream 304)', { 'if-none-match': UPSTREAM_ETAG }],
    ['Range: bytes=65535- (upstream 416)', { range: 'bytes=65535-' }],
  ])('%s → the whole rewritten manifest, 200', async (_name, headers) => {
    const response = await fetchAll(proxy.entryUrl('dash'), { headers });
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toBe('application/dash+xml');
    expect(response.headers.etag).toBe(rewrittenEtag(response.body));
    expect(response.body.toString('utf8')).toContain('/strm/proxy/');
  });
});

describe('media entries keep their Range and conditional answers', () => {
  test('a Range past the end → 416 with bytes */size (one HEAD tells the 416 is not a playlist\'s)', async () => {
    const response = await fetchAll(proxy.entryUrl('movie'), { headers: { range: 'bytes=65535-' } });
    expect(response.status).toBe(416);
    expect(response.headers['content-range']).toBe(`bytes */${MOVIE.length}`);
    expect(asked()).toEqual([['GET', '/movie', 'bytes=65535-'], ['HEAD', '/movie', '']]);
  });

  test('If-None-Match with the upstream\'s ETag → 304 passed through with that ETag', async () => {
    const response = await fetchAll(proxy.entryUrl('movie'), { headers: { 'if-none-match': UPSTREAM_ETAG } });
    expect(response.status).toBe(304);
    expect(response.headers.etag).toBe(UPSTREAM_ETAG);
  });

  test('a partial 206 of typed media costs no extra request', async () => {
    const response = await fetchAll(proxy.entryUrl('movie'), { headers: { range: 'bytes=10-19' } });
    expect(response.status).toBe(206);
    expect(response.body.equals(MOVIE.subarray(10, 20))).toBe(true);
    expect(asked()).toEqual([['GET', '/movie', 'bytes=10-19']]);
  });
});

describe('ifNoneMatchHolds (RFC 9110 §13.1.2, weak comparison)', () => {
  test.each<[string | undefined, boolean]>([
    ['"m-a"', true],
    ['W/"m-a"', true],
    ['"x", "m-a"', true],
    ['"x",W/"m-a"', true],
    ['*', true],
    [' * ', true],
    ['"m-b"', false],
    ['m-a', false],
    ['', false],
    [undefined, false],
  ])('ifNoneMatchHolds(%j, \'"m-a"\') → %s', (header, holds) => {
    expect(ifNoneMatchHolds(header, '"m-a"')).toBe(holds);
  });
});
