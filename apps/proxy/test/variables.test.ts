import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { fetchAll, mediaBytes, serveBytes, startResolver, startServer, startTestProxy, type TestProxy, type TestResolver, type TestServer } from './support/servers';

// EXT-X-DEFINE through the proxy (RFC 8216bis 4.4.2.3), with a real CDN, resolver and proxy: a
// multivariant playlist takes its CDN token from its own URL (QUERYPARAM) and its media playlists
// IMPORT it. The CDN refuses every request without the current token, so a segment only plays
// when the variables travelled from the multivariant playlist to its child.

const SEGMENTS = [mediaBytes(3000), mediaBytes(4000).reverse()];
/** Tokens the CDN accepts; the resolver hands out `tok=<generation>` (percent-encoded in the URL). */
const validTokens = new Set(['tok=1']);
let generation = 1;
let origin: TestServer;
let resolver: TestResolver;
let proxy: TestProxy;

function master(cdn: string): string {
  return [
    '#EXTM3U',
    '#EXT-X-VERSION:11',
    '#EXT-X-DEFINE:QUERYPARAM="auth"',
    `#EXT-X-DEFINE:NAME="cdn",VALUE="${cdn}/v"`,
    '#EXT-X-STREAM-INF:BANDWIDTH=800000',
    '{$cdn}/720.m3u8?auth={$auth}',
    '#EXT-X-STREAM-INF:BANDWIDTH=400000',
    '{$cdn}/360.m3u8?auth={$auth}',
    '',
  ].join('\n');
}
const MEDIA = '#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXT-X-DEFINE:IMPORT="auth"\n#EXT-X-DEFINE:IMPORT="cdn"\n#EXTINF:4,\n{$cdn}/seg0.ts?auth={$auth}\n#EXTINF:4,\nseg1.ts?auth={$auth}\n#EXT-X-ENDLIST\n';
/** Imports a variable the multivariant playlist does not define. */
const MEDIA_BAD_IMPORT = '#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXT-X-DEFINE:IMPORT="region"\n#EXTINF:4,\nseg0.ts?r={$region}\n#EXT-X-ENDLIST\n';

beforeAll(async () => {
  origin = await startServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://cdn');
    const text = (body: string) => {
      res.writeHead(200, { 'content-type': 'application/vnd.apple.mpegurl', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    };
    if (url.pathname === '/v/master.m3u8' || url.pathname === '/q/master.m3u8') return text(master(origin.origin));
    if (url.pathname === '/direct/720.m3u8') return text(MEDIA);
    if (!validTokens.has(url.searchParams.get('auth') ?? '')) {
      res.writeHead(403);
      res.end();
      return;
    }
    if (url.pathname === '/v/720.m3u8') return text(MEDIA);
    if (url.pathname === '/v/360.m3u8') return text(MEDIA_BAD_IMPORT);
    const segment = /^\/v\/seg(\d)\.ts$/.exec(url.pathname);
    if (segment) return serveBytes(req, res, SEGMENTS[Number(segment[1])]!, { contentType: 'video/mp2t' });
    res.writeHead(404);
    res.end();
  });
  resolver = await startResolver([
    {
      slug: 'vars',
      url: ({ refresh }) => {
        if (refresh) generation += 1;
        validTokens.add(`tok=${generation}`);
        return `${origin.origin}/v/master.m3u8?auth=tok%3D${generation}`;
      },
    },
    { slug: 'direct-import', url: () => `${origin.origin}/direct/720.m3u8` },
    { slug: 'no-query', url: () => `${origin.origin}/q/master.m3u8?other=1` },
  ]);
  proxy = await startTestProxy(resolver);
});

afterAll(async () => {
  await proxy?.close(0);
  await resolver?.close();
  await origin?.close();
});

/** The URI lines of a playlist. */
const uriLines = (playlist: string) => playlist.split('\n').filter((line) => line !== '' && !line.startsWith('#'));

describe('EXT-X-DEFINE through the proxy', () => {
  test('the multivariant playlist defines auth from its upstream URL, the child imports it, the segments reach the CDN with it', async () => {
    const entry = await fetchAll(proxy.entryUrl('vars'));
    expect(entry.status).toBe(200);
    const text = entry.body.toString('utf8');
    // The QUERYPARAM line is gone (a player would look for ?auth= in the proxy URI and fail), and
    // the CDN token it read never reaches the client; the NAME/VALUE line stays.
    expect(text).not.toContain('QUERYPARAM');
    expect(text).not.toContain('tok');
    expect(text).toContain('#EXT-X-DEFINE:NAME="cdn"');
    const [video720] = uriLines(text);
    const child = await fetchAll(video720!);
    expect(child.status).toBe(200);
    const childText = child.body.toString('utf8');
    expect(childText).not.toContain('IMPORT');
    expect(childText).not.toContain('{$');
    const segmentLinks = uriLines(childText);
    expect(segmentLinks).toHaveLength(2);
    const before = origin.requests.length;
    for (const [index, link] of segmentLinks.entries()) {
      const segment = await fetchAll(link);
      expect(segment.status).toBe(200);
      expect(segment.body.equals(SEGMENTS[index]!)).toBe(true);
    }
    // What the CDN saw: the variables substituted, the token percent-decoded as the RFC says.
    expect(origin.requests.slice(before).map((r) => r.path)).toEqual(['/v/seg0.ts?auth=tok=1', '/v/seg1.ts?auth=tok=1']);
  });

  test('a child importing a variable its multivariant playlist does not define is a 502 STRM_BAD_PLAYLIST_VARIABLE', async () => {
    const text = (await fetchAll(proxy.entryUrl('vars'))).body.toString('utf8');
    const response = await fetchAll(uriLines(text)[1]!);
    expect(response.status).toBe(502);
    expect(response.json().error.code).toBe('STRM_BAD_PLAYLIST_VARIABLE');
    expect(response.json().error.message).toContain('IMPORT "region": the multivariant playlist defines no such variable');
  });

  test.each([
    ['direct-import', 'a media playlist opened directly that imports', 'not loaded from a multivariant playlist'],
    ['no-query', 'a QUERYPARAM the upstream URL lacks', 'QUERYPARAM "auth": the playlist\'s URL has no such query parameter'],
  ])('%s: %s is a 502 STRM_BAD_PLAYLIST_VARIABLE', async (slug, _, message) => {
    const response = await fetchAll(proxy.entryUrl(slug));
    expect(response.status).toBe(502);
    expect(response.json().error).toMatchObject({ code: 'STRM_BAD_PLAYLIST_VARIABLE' });
    expect(response.json().error.message).toContain(message);
  });

  test('a stale child link is relocated with the fresh multivariant playlist’s variables: its segments carry the fresh token', async () => {
    const text = (await fetchAll(proxy.entryUrl('vars'))).body.toString('utf8');
    const stale = [...validTokens].at(-1)!;
    validTokens.delete(stale);
    const child = await fetchAll(uriLines(text)[0]!);
    expect(child.status).toBe(200);
    const fresh = `tok=${generation}`;
    expect(fresh).not.toBe(stale);
    const before = origin.requests.length;
    const segment = await fetchAll(uriLines(child.body.toString('utf8'))[1]!);
    expect(segment.body.equals(SEGMENTS[1]!)).toBe(true);
    expect(origin.requests.slice(before).map((r) => r.path)).toEqual([`/v/seg1.ts?auth=${fresh}`]);
  });
});
