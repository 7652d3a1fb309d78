import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { fetchAll, mediaBytes, rawGet, serveBytes, startResolver, startServer, startTestProxy, type TestProxy, type TestResolver, type TestServer } from './support/servers';

const INIT = mediaBytes(700);
const SEGMENT = mediaBytes(3000);
const TRACK = mediaBytes(10_000);

let staleTokens = new Set<string>();
let origin: TestServer;
let resolver: TestResolver;
let proxy: TestProxy;

/** A VOD MPD: an absolute MPD-level BaseURL, a template with a signed query, a single-file SegmentBase below a relative BaseURL. */
const vodManifest = (base: string) => `<?xml version="1.0" encoding="UTF-8"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" mediaPresentationDuration="PT8S" minBufferTime="PT2S">
  <BaseURL>${base}</BaseURL>
  <Period>
    <AdaptationSet mimeType="video/mp4">
      <SegmentTemplate media="$RepresentationID$/seg-$Number%03d$.m4s?tok=abc&amp;x=1" initialization="$RepresentationID$/init.mp4" startNumber="1" duration="4"/>
      <Representation id="v720" bandwidth="1"/>
    </AdaptationSet>
    <AdaptationSet mimeType="audio/mp4">
      <Representation id="a" bandwidth="1">
        <BaseURL>audio/track.mp4</BaseURL>
        <SegmentBase indexRange="100-199"><Initialization range="0-99"/></SegmentBase>
      </Representation>
    </AdaptationSet>
  </Period>
</MPD>
`;

/** A live-looking MPD sent as text/xml behind a comment, no BaseURL, with a Location. */
const LIVE_MANIFEST = `<?xml version="1.0"?>
<!-- packager 1.0 -->
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="dynamic" availabilityStartTime="2026-01-01T00:00:00Z" minimumUpdatePeriod="PT2S" minBufferTime="PT2S">
  <Location>manifest.txt?session=7</Location>
  <UTCTiming schemeIdUri="urn:mpeg:dash:utc:http-xsdate:2014" value="https://time.example/?iso"/>
  <Period id="p0" start="PT0S">
    <AdaptationSet mimeType="video/mp4"><SegmentTemplate media="chunk-$Number$.m4s" initialization="init.mp4" duration="2"/><Representation id="v" bandwidth="1"/></AdaptationSet>
  </Period>
</MPD>
`;

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
      case '/vod/manifest.mpd':
        return text(vodManifest(`${origin.origin}/t/${token}/vod/`), 'application/dash+xml');
      case '/vod/v720/init.mp4':
        return serveBytes(req, res, INIT, { contentType: 'video/mp4' });
      case '/vod/v720/seg-001.m4s':
      case '/vod/v720/seg-002.m4s':
        // The CDN checks its signed query: a proxy that dropped it would get a 403.
        if (url.search !== '?tok=abc&x=1') break;
        return serveBytes(req, res, SEGMENT, { contentType: 'video/iso.segment' });
      case '/vod/audio/track.mp4':
        return serveBytes(req, res, TRACK, { contentType: 'audio/mp4' });
      case '/live/manifest.txt':
        return text(LIVE_MANIFEST, 'text/xml');
      case '/live/chunk-5.m4s':
        return serveBytes(req, res, SEGMENT, { contentType: 'video/mp4' });
      case '/cut-small.mpd':
        return text(vodManifest('https://cdn.example/').slice(0, -20), 'application/dash+xml');
      case '/cut-large.mpd': {
        // Over 1 MiB once rewritten, so the proxy is already streaming when the end is missing.
        const list = Array.from({ length: 20_000 }, (_, index) => `<SegmentURL media="s${index}.m4s"/>`).join('\n');
        res.writeHead(200, { 'content-type': 'application/dash+xml' });
        res.end(`<MPD xmlns="urn:mpeg:dash:schema:mpd:2011"><Period><AdaptationSet><Representation id="r"><SegmentList>\n${list}\n</SegmentList></Representation>`);
        return;
      }
      case '/bad.mpd':
        return text('<html><body>maintenance</body></html>', 'application/dash+xml');
      case '/metadata.mpd':
        return text(vodManifest('http://169.254.169.254/latest/'), 'application/dash+xml');
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
    { slug: 'vod', url: tokenized('/vod/manifest.mpd'), headers: { Referer: 'https://provider.example/' } },
    { slug: 'live', url: tokenized('/live/manifest.txt') },
    { slug: 'bad', url: tokenized('/bad.mpd') },
    { slug: 'cut-small', url: tokenized('/cut-small.mpd') },
    { slug: 'cut-large', url: tokenized('/cut-large.mpd') },
    { slug: 'metadata', url: tokenized('/metadata.mpd') },
  ]);
  proxy = await startTestProxy(resolver);
});

afterAll(async () => {
  await proxy?.close(0);
  await resolver?.close();
  await origin?.close();
});

/** What a DASH player does with a template: substitute the identifiers, then resolve against the BaseURL chain. */
function expand(template: string, values: { RepresentationID: string; Number: number }): string {
  return template
    .replace(/\$RepresentationID\$/g, values.RepresentationID)
    .replace(/\$Number(?:%0(\d+)d)?\$/g, (_match, width: string | undefined) => String(values.Number).padStart(Number(width ?? 0), '0'));
}

const attribute = (text: string, name: string) => new RegExp(`${name}="([^"]*)"`).exec(text)?.[1]?.replace(/&amp;/g, '&');
const baseUrls = (text: string) => [...text.matchAll(/<BaseURL>([^<]*)<\/BaseURL>/g)].map((match) => match[1]!);


describe('DASH manifests through /strm/stream and /strm/proxy', () => {
  test('the entry MPD is rewritten: every URL points at the proxy, templates stay templates, CDN queries are sealed', async () => {
    const response = await fetchAll(proxy.entryUrl('vod'));
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toBe('application/dash+xml');
    expect(response.headers['cache-control']).toBe('no-store');
    expect(response.headers['content-length']).toBe(String(response.body.length));
    const text = response.body.toString('utf8');
    expect(text).not.toContain(origin.origin);
    expect(text).not.toContain('tok=abc');
    const [mpdBase, audioBase] = baseUrls(text);
    // Absolute from the request's own origin, like playlist URIs.
    expect(mpdBase).toMatch(new RegExp(`^${proxy.url}/strm/proxy/[A-Za-z0-9_-]+/$`));
    // Relative BaseURLs and query-less templates that already resolve through the proxy are kept.
    expect(audioBase).toBe('audio/track.mp4');
    expect(attribute(text, 'initialization')).toBe('$RepresentationID$/init.mp4');
    expect(attribute(text, 'media')).toMatch(new RegExp(`^${proxy.url}/strm/proxy/[A-Za-z0-9_-]+/\\$RepresentationID\\$/seg-\\$Number%03d\\$\\.m4s$`));
    // Everything but the URLs is as the CDN sent it.
    expect(text.replace(/<BaseURL>http[^<]*\/strm\/proxy\/[^<]*<\/BaseURL>/, '').replace(/media="[^"]*"/, '')).toBe(
      vodManifest('X').replace('<BaseURL>X</BaseURL>', '').replace(/media="[^"]*"/, ''),
    );
  });

  test('expanded template URLs resolve through the proxy to the CDN, with the signed query and the resolver headers', async () => {
    const entry = proxy.entryUrl('vod');
    const text = (await fetchAll(entry)).body.toString('utf8');
    const base = new URL(baseUrls(text)[0]!, entry).href;
    const before = origin.requests.length;
    const segment = await fetchAll(new URL(expand(attribute(text, 'media')!, { RepresentationID: 'v720', Number: 2 }), base).href);
    expect(segment.status).toBe(200);
    expect(segment.body.equals(SEGMENT)).toBe(true);
    const init = await fetchAll(new URL(expand(attribute(text, 'initialization')!, { RepresentationID: 'v720', Number: 0 }), base).href);
    expect(init.body.equals(INIT)).toBe(true);
    const seen = origin.requests.slice(before);
    expect(seen.map((r) => r.path.replace(/^\/t\/[^/]+/, ''))).toEqual(['/vod/v720/seg-002.m4s?tok=abc&x=1', '/vod/v720/init.mp4']);
    for (const request of seen) expect(request.headers.referer).toBe('https://provider.example/');
  });

  test('SegmentBase byte ranges: exact 206 answers for the init and index ranges of a single-file representation', async () => {
    const entry = proxy.entryUrl('vod');
    const text = (await fetchAll(entry)).body.toString('utf8');
    const [mpdBase, audioBase] = baseUrls(text);
    const file = new URL(audioBase!, new URL(mpdBase!, entry)).href;
    expect(file).toMatch(/\/strm\/proxy\/[A-Za-z0-9_-]+\/audio\/track\.mp4$/);
    for (const [range, start, end] of [['bytes=0-99', 0, 100], ['bytes=100-199', 100, 200], ['bytes=9990-', 9990, 10_000]] as const) {
      const response = await fetchAll(file, { headers: { range } });
      expect(response.status).toBe(206);
      expect(response.headers['content-range']).toBe(`bytes ${start}-${end - 1}/10000`);
      expect(response.body.equals(TRACK.subarray(start, end))).toBe(true);
    }
    const whole = await fetchAll(file);
    expect(whole.status).toBe(200);
    expect(whole.body.equals(TRACK)).toBe(true);
  });

  test.each([
    ['a ".." segment', '../x.m4s'],
    ['an encoded ".." segment', '%2e%2E/x.m4s'],
    ['an encoded "/"', 'a%2Fb.m4s'],
    ['an encoded backslash', 'a%5cb.m4s'],
    ['a backslash', 'a\\..\\b.m4s'],
    ['a network-path reference', '/evil.example/x'],
    ['an absolute URL', 'http:%2F%2Fevil.example/x'],
    ['a "." segment', './x.m4s'],
  ])('a sealed path that could leave its directory (%s) is refused: 400 STRM_BAD_PROXY_PATH, nothing fetched', async (_name, rest) => {
    const entry = proxy.entryUrl('vod');
    const text = (await fetchAll(entry)).body.toString('utf8');
    const base = new URL(baseUrls(text)[0]!, entry);
    const before = origin.requests.length;
    const response = await rawGet(proxy.url, `${base.pathname}${rest}`);
    expect(response.status).toBe(400);
    expect(JSON.parse(response.body).error.code).toBe('STRM_BAD_PROXY_PATH');
    expect(origin.requests.length).toBe(before);
  });

  test('a manifest sent as text/xml behind a comment is sniffed; Location comes back through the proxy and is rewritten in turn', async () => {
    const entry = proxy.entryUrl('live');
    const first = await fetchAll(entry);
    expect(first.headers['content-type']).toBe('application/dash+xml');
    const text = first.body.toString('utf8');
    expect(text).toContain('<!-- packager 1.0 -->');
    expect(text).toContain('value="https://time.example/?iso"'); // UTCTiming kept
    const location = /<Location>([^<]*)<\/Location>/.exec(text)![1]!;
    expect(location).toMatch(new RegExp(`^${proxy.url}/strm/proxy/[A-Za-z0-9_-]+/manifest\\.txt$`));
    expect(attribute(text, 'media')).toMatch(new RegExp(`^${proxy.url}/strm/proxy/[A-Za-z0-9_-]+/chunk-\\$Number\\$\\.m4s$`));

    const reloadUrl = new URL(location, entry).href;
    const reloaded = await fetchAll(reloadUrl);
    expect(reloaded.status).toBe(200);
    const again = reloaded.body.toString('utf8');
    expect(origin.requests.at(-1)!.path).toMatch(/\/live\/manifest\.txt\?session=7$/);
    const media = attribute(again, 'media')!;
    expect(media).toMatch(new RegExp(`^${proxy.url}/strm/proxy/[A-Za-z0-9_-]+/chunk-\\$Number\\$\\.m4s$`));
    const chunk = await fetchAll(new URL(expand(media, { RepresentationID: 'v', Number: 5 }), reloadUrl).href);
    expect(chunk.body.equals(SEGMENT)).toBe(true);
  });

  test('a segment whose CDN URL went stale is found again in the re-resolved manifest', async () => {
    const entry = proxy.entryUrl('vod');
    const text = (await fetchAll(entry)).body.toString('utf8');
    const base = new URL(baseUrls(text)[0]!, entry).href;
    const segmentUrl = new URL(expand(attribute(text, 'media')!, { RepresentationID: 'v720', Number: 1 }), base).href;
    const refreshes = resolver.calls.get('vod')!.refreshes;
    const current = /\/t\/(gen\d+)\//.exec(origin.requests.at(-1)!.path)![1]!;
    staleTokens.add(current);
    try {
      const segment = await fetchAll(segmentUrl, { headers: { range: 'bytes=10-19' } });
      expect(segment.status).toBe(206);
      expect(segment.body.equals(SEGMENT.subarray(10, 20))).toBe(true);
      expect(resolver.calls.get('vod')!.refreshes).toBe(refreshes + 1);
      expect(origin.requests.at(-1)!.path).not.toContain(current);
    } finally {
      staleTokens = new Set();
    }
  });

  test('a body that claims to be an MPD but is not → 502 STRM_BAD_MANIFEST', async () => {
    const response = await fetchAll(proxy.entryUrl('bad'));
    expect(response.status).toBe(502);
    expect(response.json().error.code).toBe('STRM_BAD_MANIFEST');
  });

  test('a manifest cut short: a 502 STRM_BAD_MANIFEST when it is small, an aborted response once streaming (never a cut manifest that looks whole)', async () => {
    const small = await fetchAll(proxy.entryUrl('cut-small'));
    expect(small.status).toBe(502);
    expect(small.json().error.code).toBe('STRM_BAD_MANIFEST');
    expect(small.json().error.message).toContain('cut short');
    const large = await request(proxy.entryUrl('cut-large'));
    expect(large.statusCode).toBe(200);
    expect(large.headers['content-length']).toBeUndefined();
    await expect(large.body.text()).rejects.toThrow();
  });

  test('the address guard holds for URLs from a manifest: a metadata-address BaseURL is refused (502 STRM_UPSTREAM_REFUSED)', async () => {
    const entry = proxy.entryUrl('metadata');
    const text = (await fetchAll(entry)).body.toString('utf8');
    const base = new URL(baseUrls(text)[0]!, entry).href;
    const response = await fetchAll(new URL(expand(attribute(text, 'initialization')!, { RepresentationID: 'v720', Number: 0 }), base).href);
    expect(response.status).toBe(502);
    expect(response.json().error.code).toBe('STRM_UPSTREAM_REFUSED');
  });

  test('HEAD of a manifest answers its headers without a body', async () => {
    const response = await fetchAll(proxy.entryUrl('vod'), { method: 'HEAD' });
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toBe('application/dash+xml');
    expect(response.body.length).toBe(0);
  });

  test('STRM_PUBLIC_BASE_URL makes rewritten URLs absolute', async () => {
    const absolute = await startTestProxy(resolver, { STRM_PUBLIC_BASE_URL: 'https://media.example/prefix' });
    try {
      const text = (await fetchAll(absolute.entryUrl('vod'))).body.toString('utf8');
      expect(baseUrls(text)[0]).toMatch(/^https:\/\/media\.example\/prefix\/strm\/proxy\/[A-Za-z0-9_-]+\/$/);
      expect(attribute(text, 'media')).toMatch(/^https:\/\/media\.example\/prefix\/strm\/proxy\/[A-Za-z0-9_-]+\/\$RepresentationID\$\/seg-\$Number%03d\$\.m4s$/);
    } finally {
      await absolute.close(0);
    }
  });
});
