import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { fetchAll, mediaBytes, serveBytes, startResolver, startServer, startTestProxy, type TestProxy, type TestResolver, type TestServer } from './support/servers';

const SEGMENT = mediaBytes(5000);
const KEY = Buffer.from('0123456789abcdef');

// A CDN whose URLs carry a path token; /t/<token>/... with token "old" goes stale on demand.
let staleTokens = new Set<string>();
let origin: TestServer;
let resolver: TestResolver;
let proxy: TestProxy;

const MASTER = [
  '#EXTM3U',
  '#EXT-X-VERSION:6',
  '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aud",NAME="Deutsch",DEFAULT=YES,URI="audio/de.m3u8"',
  '#EXT-X-STREAM-INF:BANDWIDTH=800000,AUDIO="aud"',
  'video/720.txt',
  '',
].join('\n');
const MEDIA_PLAYLIST = [
  '#EXTM3U',
  '#EXT-X-TARGETDURATION:4',
  '#EXT-X-MEDIA-SEQUENCE:0',
  '#EXT-X-KEY:METHOD=AES-128,URI="../keys/k1.bin",IV=0x00000000000000000000000000000001',
  '#EXTINF:4.0,',
  'seg0.jpg',
  '#EXTINF:4.0,',
  '/t/TOKEN/video/seg1.jpg?x=1',
  '#EXT-X-ENDLIST',
  '',
].join('\r\n');
const AUDIO_PLAYLIST = '#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXT-X-MAP:URI="init.mp4"\n#EXTINF:4,\na0\n#EXT-X-ENDLIST\n';

beforeAll(async () => {
  origin = await startServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://cdn');
    const match = /^\/t\/([^/]+)(\/.*)$/.exec(url.pathname);
    if (!match || staleTokens.has(match[1]!)) {
      res.writeHead(403);
      res.end();
      return;
    }
    const [, token, path] = match;
    const text = (body: string, type: string) => {
      res.writeHead(200, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
      res.end(body);
    };
    switch (path) {
      case '/master.m3u8':
        return text(MASTER, 'application/vnd.apple.mpegurl');
      case '/master-as-text':
        return text(`\uFEFF${MASTER}`, 'text/plain');
      case '/video/720.txt':
        return text(MEDIA_PLAYLIST.replace('TOKEN', token!), 'application/octet-stream');
      case '/audio/de.m3u8':
        return text(AUDIO_PLAYLIST, 'audio/mpegurl');
      case '/keys/k1.bin':
        return serveBytes(req, res, KEY, { contentType: 'application/octet-stream' });
      case '/video/seg0.jpg':
      case '/video/seg1.jpg':
      case '/audio/a0':
      case '/audio/init.mp4':
        return serveBytes(req, res, SEGMENT, { contentType: 'image/jpeg' });
      case '/subs-master.m3u8':
        return text(
          '#EXTM3U\n#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="s",NAME="Deutsch",URI="subs/de.m3u8"\n#EXT-X-STREAM-INF:BANDWIDTH=1,SUBTITLES="s"\nvideo/720.txt\n',
          'application/vnd.apple.mpegurl',
        );
      case '/subs/de.m3u8':
        return text('#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXTINF:4,\ncue0.jpg\n#EXTINF:4,\ncue1\n#EXTINF:4,\ncue2.webvtt\n#EXT-X-ENDLIST\n', 'application/vnd.apple.mpegurl');
      case '/not-a-playlist.m3u8':
        return text('<html>nope</html>', 'application/vnd.apple.mpegurl');
    }
    res.writeHead(404);
    res.end();
  });
  let generation = 0;
  const tokenized = (path: string) => ({ refresh }: { refresh: boolean }) => {
    if (refresh) generation += 1;
    return `${origin.origin}/t/gen${generation}${path}`;
  };
  resolver = await startResolver([
    { slug: 'hls', url: tokenized('/master.m3u8'), headers: { Referer: 'https://provider.example/' } },
    { slug: 'sniffed', url: tokenized('/master-as-text') },
    { slug: 'broken', url: tokenized('/not-a-playlist.m3u8') },
    { slug: 'subtitled', url: tokenized('/subs-master.m3u8') },
  ]);
  proxy = await startTestProxy(resolver);
});

afterAll(async () => {
  await proxy?.close(0);
  await resolver?.close();
  await origin?.close();
});

/** Every URI line and URI="…" attribute of a playlist. */
function references(playlist: string): string[] {
  const found: string[] = [];
  for (const line of playlist.split(/\r?\n/)) {
    if (line === '' ) continue;
    if (!line.startsWith('#')) found.push(line);
    for (const match of line.matchAll(/URI="([^"]*)"/g)) found.push(match[1]!);
  }
  return found;
}

describe('playlists through /strm/stream and /strm/proxy', () => {
  test('the entry playlist is rewritten: every URI comes back through the proxy, absolute from the request', async () => {
    const response = await fetchAll(proxy.entryUrl('hls'));
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toBe('application/vnd.apple.mpegurl');
    expect(response.headers['cache-control']).toBe('no-store');
    const text = response.body.toString('utf8');
    expect(response.headers['content-length']).toBe(String(response.body.length));
    expect(text).not.toContain(origin.origin);
    const refs = references(text);
    expect(refs).toHaveLength(2);
    expect(refs[0]).toMatch(new RegExp(`^${proxy.url}/strm/proxy/[A-Za-z0-9_-]+/de\\.m3u8$`));
    expect(refs[1]).toMatch(new RegExp(`^${proxy.url}/strm/proxy/[A-Za-z0-9_-]+/720\\.m3u8$`));
  });

  test('child playlists, keys and disguised segments are fetched back through the proxy with the resolver headers', async () => {
    const entry = proxy.entryUrl('hls');
    const master = (await fetchAll(entry)).body.toString('utf8');
    const videoUrl = new URL(references(master)[1]!, entry).href;
    const video = await fetchAll(videoUrl);
    expect(video.status).toBe(200);
    const text = video.body.toString('utf8');
    expect(text).toContain('\r\n');
    const refs = references(text);
    expect(refs).toHaveLength(3);
    expect(refs[0]).toMatch(new RegExp(`^${proxy.url}/strm/proxy/[A-Za-z0-9_-]+/[A-Za-z0-9._-]+\\.key$`));
    expect(refs[1]).toMatch(new RegExp(`^${proxy.url}/strm/proxy/[A-Za-z0-9_-]+/[A-Za-z0-9._-]+\\.ts$`));
    expect(refs[2]).toMatch(new RegExp(`^${proxy.url}/strm/proxy/[A-Za-z0-9_-]+/[A-Za-z0-9._-]+\\.ts$`));
    const before = origin.requests.length;
    const key = await fetchAll(new URL(refs[0]!, videoUrl).href);
    expect(key.body.equals(KEY)).toBe(true);
    const segment = await fetchAll(new URL(refs[1]!, videoUrl).href, { headers: { range: 'bytes=100-199' } });
    expect(segment.status).toBe(206);
    expect(segment.body.equals(SEGMENT.subarray(100, 200))).toBe(true);
    const absolute = await fetchAll(new URL(refs[2]!, videoUrl).href);
    expect(absolute.body.equals(SEGMENT)).toBe(true);
    for (const seen of origin.requests.slice(before)) expect(seen.headers.referer).toBe('https://provider.example/');
    expect(origin.requests.slice(before).map((r) => r.path.replace(/\/t\/[^/]+/, ''))).toEqual(['/keys/k1.bin', '/video/seg0.jpg', '/video/seg1.jpg?x=1']);
  });

  test('a playlist sent as text/plain with a BOM is detected by its first bytes; the BOM is dropped', async () => {
    const response = await fetchAll(proxy.entryUrl('sniffed'));
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toBe('application/vnd.apple.mpegurl');
    expect(response.body.subarray(0, 7).toString()).toBe('#EXTM3U');
  });

  test('a body that claims to be a playlist but is not → 502 STRM_BAD_PLAYLIST', async () => {
    const response = await fetchAll(proxy.entryUrl('broken'));
    expect(response.status).toBe(502);
    expect(response.json().error.code).toBe('STRM_BAD_PLAYLIST');
  });

  test('the segments of a subtitle rendition are named .vtt (WebVTT under .ts fails extension checks)', async () => {
    const entry = proxy.entryUrl('subtitled');
    const master = (await fetchAll(entry)).body.toString('utf8');
    const subsUrl = new URL(references(master)[0]!, entry).href;
    expect(subsUrl).toMatch(/\/de\.m3u8$/);
    const names = references((await fetchAll(subsUrl)).body.toString('utf8')).map((ref) => ref.slice(ref.lastIndexOf('/') + 1));
    expect(names).toEqual(['cue0.vtt', 'cue1.vtt', 'cue2.webvtt']);
    // Segments of the video variant keep their names by kind.
    const videoUrl = new URL(references(master)[1]!, entry).href;
    const videoNames = references((await fetchAll(videoUrl)).body.toString('utf8')).map((ref) => ref.slice(ref.lastIndexOf('/') + 1));
    expect(videoNames.slice(1)).toEqual(['seg0.ts', 'seg1.ts']);
  });

  test('STRM_PUBLIC_BASE_URL makes rewritten URIs absolute', async () => {
    const absolute = await startTestProxy(resolver, { STRM_PUBLIC_BASE_URL: 'https://media.example/prefix' });
    try {
      const text = (await fetchAll(absolute.entryUrl('hls'))).body.toString('utf8');
      for (const ref of references(text)) expect(ref).toMatch(/^https:\/\/media\.example\/prefix\/strm\/proxy\/[A-Za-z0-9_-]+\/[a-z0-9]+\.m3u8$/);
    } finally {
      await absolute.close(0);
    }
  });

  test('a segment whose URL went stale is found again after one re-resolution', async () => {
    const entry = proxy.entryUrl('hls');
    const master = (await fetchAll(entry)).body.toString('utf8');
    const videoUrl = new URL(references(master)[1]!, entry).href;
    const refs = references((await fetchAll(videoUrl)).body.toString('utf8'));
    const calls = resolver.calls.get('hls')!.refreshes;
    // Every URL of the current generation goes stale at once, as when a CDN token expires.
    const current = /\/t\/(gen\d+)\//.exec(origin.requests.at(-1)!.path)![1]!;
    staleTokens.add(current);
    const results = await Promise.all(refs.slice(1).map((ref) => fetchAll(new URL(ref, videoUrl).href)));
    for (const result of results) {
      expect(result.status).toBe(200);
      expect(result.body.equals(SEGMENT)).toBe(true);
    }
    expect(resolver.calls.get('hls')!.refreshes).toBe(calls + 1);
    staleTokens = new Set();
  });
});

describe('where playlist URIs point: the request decides, per request', () => {
  const urisOf = async (url: string, headers: Record<string, string> = {}) => {
    const response = await fetchAll(url, { headers });
    expect(response.status).toBe(200);
    return { response, refs: references(response.body.toString('utf8')) };
  };

  test('behind a reverse proxy: X-Forwarded-Proto/-Host/-Prefix make every URI point at the front, child playlists included', async () => {
    const front = { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'media.example:8443', 'x-forwarded-prefix': '/anime' };
    const master = await urisOf(proxy.entryUrl('hls'), front);
    for (const ref of master.refs) expect(ref).toMatch(/^https:\/\/media\.example:8443\/anime\/strm\/proxy\/[A-Za-z0-9_-]+\/[a-z0-9]+\.m3u8$/);
    // The front would strip /anime and forward the path: follow the URI the same way.
    const childPath = new URL(master.refs[1]!).pathname.replace(/^\/anime/, '');
    const child = await urisOf(`${proxy.url}${childPath}`, front);
    expect(child.refs).toHaveLength(3);
    for (const ref of child.refs) expect(ref.startsWith('https://media.example:8443/anime/strm/proxy/')).toBe(true);
    expect(master.response.headers.vary).toBe('Host, Forwarded, X-Forwarded-Proto, X-Forwarded-Host, X-Forwarded-Port, X-Forwarded-Prefix');
  });

  test('RFC 7239 Forwarded: host and proto of the first element', async () => {
    const { refs } = await urisOf(proxy.entryUrl('hls'), { forwarded: 'for=192.0.2.60;proto=https;host=media.example, for=10.0.0.2;host=inner.lan', 'x-forwarded-prefix': '/anime' });
    for (const ref of refs) expect(ref.startsWith('https://media.example/anime/strm/proxy/')).toBe(true);
  });

  test("a forged Host or X-Forwarded-Host changes only the forger's own playlist, never the next client's", async () => {
    const forged = await urisOf(proxy.entryUrl('hls'), { 'x-forwarded-host': 'evil.example', host: 'evil.example' });
    for (const ref of forged.refs) expect(ref.startsWith('http://evil.example/strm/proxy/')).toBe(true);
    expect(forged.response.headers['cache-control']).toBe('no-store');
    const honest = await urisOf(proxy.entryUrl('hls'));
    for (const ref of honest.refs) expect(ref.startsWith(`${proxy.url}/strm/proxy/`)).toBe(true);
  });

  test.each([
    ['x-forwarded-host', 'evil.example"\r\n#EXT-X-KEY'.replace(/\r\n/, ' ')],
    ['x-forwarded-proto', 'gopher'],
    ['x-forwarded-prefix', '/a"b'],
    ['forwarded', 'host="unterminated'],
    ['host', 'bad"host'],
  ])('a malformed %s → 400 STRM_BAD_FORWARDED_HEADER before anything is resolved', async (name, value) => {
    const before = resolver.calls.get('hls')?.total ?? 0;
    const response = await fetchAll(proxy.entryUrl('hls'), { headers: { [name]: value } });
    expect(response.status).toBe(400);
    expect(response.headers['content-type']).toBe('application/json; charset=utf-8');
    const { error } = response.json();
    expect(error.code).toBe('STRM_BAD_FORWARDED_HEADER');
    expect(error.message).toContain(`the ${name} header is malformed`);
    expect(resolver.calls.get('hls')?.total ?? 0).toBe(before);
  });

  test('a link to media does not read them: a malformed one refuses a playlist link, not a segment link', async () => {
    const master = await urisOf(proxy.entryUrl('hls'));
    const childPath = new URL(master.refs[1]!).pathname;
    const child = await urisOf(`${proxy.url}${childPath}`);
    const segmentUrl = `${proxy.url}${new URL(child.refs[0]!).pathname}`;
    const malformed = { 'x-forwarded-host': 'bad host' };
    const plain = await fetchAll(segmentUrl);
    const segment = await fetchAll(segmentUrl, { headers: malformed });
    expect(segment.status).toBe(200);
    expect(segment.body.equals(plain.body)).toBe(true);
    expect(segment.headers.vary).toBeUndefined();
    const playlist = await fetchAll(`${proxy.url}${childPath}`, { headers: malformed });
    expect(playlist.status).toBe(400);
    expect(playlist.json().error.code).toBe('STRM_BAD_FORWARDED_HEADER');
  });

  test('with STRM_PUBLIC_BASE_URL the headers are not read: no Vary, no 400', async () => {
    const configured = await startTestProxy(resolver, { STRM_PUBLIC_BASE_URL: 'https://media.example/prefix' });
    try {
      const { response, refs } = await urisOf(configured.entryUrl('hls'), { 'x-forwarded-host': 'bad host' });
      for (const ref of refs) expect(ref.startsWith('https://media.example/prefix/strm/proxy/')).toBe(true);
      expect(response.headers.vary).toBeUndefined();
    } finally {
      await configured.close(0);
    }
  });

  test('Vary keeps the Origin of a CORS allowlist', async () => {
    const listed = await startTestProxy(resolver, { STRM_PROXY_CORS_ORIGINS: 'https://app.example' });
    try {
      const { response } = await urisOf(listed.entryUrl('hls'), { origin: 'https://app.example' });
      expect(response.headers.vary).toBe('Origin, Host, Forwarded, X-Forwarded-Proto, X-Forwarded-Host, X-Forwarded-Port, X-Forwarded-Prefix');
    } finally {
      await listed.close(0);
    }
  });
});
