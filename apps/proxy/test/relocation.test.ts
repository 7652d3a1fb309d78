import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { entryFingerprint, openLink } from '../src/playlist-links';
import { createProxyTokens } from '../src/tokens';
import { fetchAll, mediaBytes, SECRET, serveBytes, startResolver, startServer, startTestProxy, type TestProxy, type TestResolver, type TestServer } from './support/servers';

// Stale links of a playlist (HLS) or a manifest (DASH), relocated through the proxy's HTTP surface
// with the origin's hits counted (docs/contract.md, "Refresh"):
// - after one stale link, its siblings are asked at their new URL directly, without a refused request each;
// - a second expiry in the same playback (the generation they were moved to goes stale too) is
//   refreshed again.

const SEGMENT = mediaBytes(1000);
const MASTER = '#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nvideo/index.m3u8\n';
const MEDIA = '#EXTM3U\n#EXT-X-TARGETDURATION:4\n' + [0, 1, 2, 3, 4, 5].map((n) => `#EXTINF:4,\nseg${n}.ts\n`).join('') + '#EXT-X-ENDLIST\n';
const MPD = `<?xml version="1.0"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" mediaPresentationDuration="PT24S" minBufferTime="PT2S">
  <Period><AdaptationSet mimeType="video/mp4"><SegmentTemplate media="v/seg-$Number$.m4s" initialization="v/init.mp4" startNumber="0" duration="4"/><Representation id="v" bandwidth="1"/></AdaptationSet></Period>
</MPD>
`;

/** Each episode's first generation: apart, so that one test's stale generations are not another's. */
const FIRST_GENERATION: Record<string, number> = { hls: 0, dash: 100, ll: 200, 'll-media': 300 };
/** Generations (path tokens) the CDN refuses. */
const stale = new Set<string>();
let clock = Date.now();
let origin: TestServer;
let resolver: TestResolver;
let proxy: TestProxy;

beforeAll(async () => {
  origin = await startServer((req, res) => {
    const match = /^\/(gen\d+)(\/.*)$/.exec(new URL(req.url ?? '/', 'http://cdn').pathname);
    if (match === null || stale.has(match[1]!)) {
      res.writeHead(403);
      res.end();
      return;
    }
    const text = (body: string, type: string) => {
      res.writeHead(200, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
      res.end(body);
    };
    const path = match[2]!;
    if (path === '/hls/master.m3u8') return text(MASTER, 'application/vnd.apple.mpegurl');
    if (path === '/hls/video/index.m3u8') return text(MEDIA, 'application/vnd.apple.mpegurl');
    if (path === '/dash/manifest.mpd') return text(MPD, 'application/dash+xml');
    return serveBytes(req, res, SEGMENT, { contentType: 'video/mp2t' });
  });
  const generations = new Map<string, number>();
  const rotating = (slug: string, path: string) => ({ refresh }: { refresh: boolean }) => {
    const generation = (generations.get(slug) ?? FIRST_GENERATION[slug]!) + (refresh ? 1 : 0);
    generations.set(slug, generation);
    return `${origin.origin}/gen${generation}${path}`;
  };
  resolver = await startResolver([
    { slug: 'hls', url: rotating('hls', '/hls/master.m3u8') },
    { slug: 'dash', url: rotating('dash', '/dash/manifest.mpd') },
    { slug: 'll', url: rotating('ll', '/hls/master.m3u8') },
    { slug: 'll-media', url: rotating('ll-media', '/hls/video/index.m3u8') },
  ]);
  // The resolver client spaces refreshes of one episode 5 s apart: the clock moves past that between expiries.
  proxy = await startTestProxy(resolver, {}, { now: () => clock });
});

afterAll(async () => {
  await proxy?.close(0);
  await resolver?.close();
  await origin?.close();
});

/** The origin paths asked since `from`, generation and file, e.g. `gen1/seg0.ts 403`. */
function hits(from: number): string[] {
  return origin.requests.slice(from).map((request) => request.path.replace(/^\/(gen\d+)\/(?:hls|dash)\/(?:video\/|v\/)?/, '/$1/'));
}

/** Plays segment after segment; returns each status and the origin hits it cost. */
async function play(urls: readonly string[]): Promise<Array<{ status: number; hits: string[] }>> {
  const played: Array<{ status: number; hits: string[] }> = [];
  for (const url of urls) {
    const from = origin.requests.length;
    const response = await fetchAll(url);
    played.push({ status: response.status, hits: hits(from) });
  }
  return played;
}

describe('stale links of a playlist through the proxy', () => {
  test('HLS: one refused request per playlist, then its siblings go straight to the fresh URL; a second expiry is refreshed again', async () => {
    const master = (await fetchAll(proxy.entryUrl('hls'))).body.toString('utf8');
    const media = (await fetchAll(master.split('\n')[2]!)).body.toString('utf8');
    const segments = media.split('\n').filter((line) => line.startsWith('http'));
    expect(segments).toHaveLength(6);
    const before = resolver.calls.get('hls')!.refreshes;

    stale.add('gen0');
    const first = await play(segments.slice(0, 3));
    expect(first).toEqual([
      // One refused request, one re-resolution, the fresh playlists walked once.
      { status: 200, hits: ['/gen0/seg0.ts', '/gen1/master.m3u8', '/gen1/index.m3u8', '/gen1/seg0.ts'] },
      // Its siblings: the fresh URL at once, the stale one never asked.
      { status: 200, hits: ['/gen1/seg1.ts'] },
      { status: 200, hits: ['/gen1/seg2.ts'] },
    ]);
    expect(resolver.calls.get('hls')!.refreshes).toBe(before + 1);

    // The fresh generation expires in turn, later in the same playback.
    stale.add('gen1');
    clock += 60_000;
    const second = await play(segments.slice(3));
    expect(second).toEqual([
      { status: 200, hits: ['/gen1/seg3.ts', '/gen2/master.m3u8', '/gen2/index.m3u8', '/gen2/seg3.ts'] },
      { status: 200, hits: ['/gen2/seg4.ts'] },
      { status: 200, hits: ['/gen2/seg5.ts'] },
    ]);
    expect(resolver.calls.get('hls')!.refreshes).toBe(before + 2);
    // The request line says which were asked at their new URL first: all but the first stale one (a line is logged when its response closes).
    await proxy.waitForLog((line) => line.msg === 'request' && String(line.path).endsWith('/seg5.ts'));
    const lines = proxy.logs.filter((line) => line.msg === 'request' && /\/seg\d\.ts$/.test(String(line.path)));
    expect(lines.map((line) => [String(line.path).slice(-7), line.relocatedAhead ?? false, line.refreshes ?? 0])).toEqual([
      ['seg0.ts', false, 1], ['seg1.ts', true, 0], ['seg2.ts', true, 0], ['seg3.ts', true, 1], ['seg4.ts', true, 0], ['seg5.ts', true, 0],
    ]);
  });

  test('a playlist found again by relocation hands out links of the fresh generation: they are asked as they are, not relocated', async () => {
    const master = (await fetchAll(proxy.entryUrl('hls'))).body.toString('utf8');
    const playlistLink = master.split('\n')[2]!;
    const tokens = createProxyTokens({ secret: SECRET, previousSecrets: [], ttlSeconds: 3600 });
    const open = (uri: string) => openLink(tokens, new URL(uri).pathname.split('/')[3]!, Math.floor(clock / 1000));
    const staleUrl = open(playlistLink).url;
    const current = /\/(gen\d+)\//.exec(staleUrl)![1]!;
    const next = `gen${Number(current.slice(3)) + 1}`;
    stale.add(current);
    clock += 60_000;
    // The player reloads the media playlist: its link is stale, relocated into the next generation.
    const from = origin.requests.length;
    const reloaded = (await fetchAll(playlistLink)).body.toString('utf8');
    expect(hits(from)).toEqual([`/${current}/index.m3u8`, `/${next}/master.m3u8`, `/${next}/index.m3u8`]);
    const segment = reloaded.split('\n').find((line) => line.startsWith('http'))!;
    expect(open(segment).url).toBe(`${origin.origin}/${next}/hls/video/seg0.ts`);
    expect(open(segment).lineage?.fingerprint).toBe(entryFingerprint(`${origin.origin}/${next}/hls/master.m3u8`));
    const played = await play([segment]);
    expect(played).toEqual([{ status: 200, hits: [`/${next}/seg0.ts`] }]);
    const logged = new URL(segment).pathname.replace(/^(\/strm\/proxy\/[^/]{8})[^/]*/, '$1…');
    const line = await proxy.waitForLog((candidate) => candidate.msg === 'request' && candidate.path === logged);
    expect(line.relocatedAhead).toBeUndefined();
  });

  test('DASH: a sealed segment directory moves once for all its segments; a second expiry is refreshed again', async () => {
    const entry = proxy.entryUrl('dash');
    const manifest = (await fetchAll(entry)).body.toString('utf8');
    const template = /media="([^"]+)"/.exec(manifest)![1]!;
    const segmentUrl = (n: number) => new URL(template.replace('$Number$', String(n)), entry).href;
    const before = resolver.calls.get('dash')!.refreshes;

    stale.add('gen100');
    expect(await play([0, 1, 2].map(segmentUrl))).toEqual([
      { status: 200, hits: ['/gen100/seg-0.m4s', '/gen101/manifest.mpd', '/gen101/seg-0.m4s'] },
      { status: 200, hits: ['/gen101/seg-1.m4s'] },
      { status: 200, hits: ['/gen101/seg-2.m4s'] },
    ]);
    stale.add('gen101');
    clock += 60_000;
    expect(await play([3, 4, 5].map(segmentUrl))).toEqual([
      { status: 200, hits: ['/gen101/seg-3.m4s', '/gen102/manifest.mpd', '/gen102/seg-3.m4s'] },
      { status: 200, hits: ['/gen102/seg-4.m4s'] },
      { status: 200, hits: ['/gen102/seg-5.m4s'] },
    ]);
    expect(resolver.calls.get('dash')!.refreshes).toBe(before + 2);
  });

  test('LL-HLS: a playlist asked with Delivery Directives is asked with them at its new URL: relocated, relocated ahead, re-resolved', async () => {
    const master = (await fetchAll(proxy.entryUrl('ll'))).body.toString('utf8');
    const playlistLink = master.split('\n')[2]!;
    const blocking = '_HLS_msn=5&_HLS_part=1&_HLS_skip=YES';
    stale.add('gen200');
    clock += 60_000;
    let from = origin.requests.length;
    expect((await fetchAll(`${playlistLink}?${blocking}`)).status).toBe(200);
    // The fresh multivariant playlist is read plain; the moved media playlist gets the directives.
    expect(hits(from)).toEqual([`/gen200/index.m3u8?${blocking}`, '/gen201/master.m3u8', `/gen201/index.m3u8?${blocking}`]);
    from = origin.requests.length;
    expect((await fetchAll(`${playlistLink}?_HLS_msn=6`)).status).toBe(200);
    expect(hits(from), 'the next reload goes to the new URL at once, still blocking').toEqual(['/gen201/index.m3u8?_HLS_msn=6']);

    const entry = proxy.entryUrl('ll-media');
    expect((await fetchAll(`${entry}&_HLS_msn=7`)).status).toBe(200);
    stale.add('gen300');
    clock += 60_000;
    from = origin.requests.length;
    const reResolved = await fetchAll(`${entry}&_HLS_msn=8&_HLS_skip=v2`);
    expect(reResolved.status).toBe(200);
    expect(hits(from), 'an entry URL re-resolved').toEqual(['/gen300/index.m3u8?_HLS_msn=8&_HLS_skip=v2', '/gen301/index.m3u8?_HLS_msn=8&_HLS_skip=v2']);
    // Its links belong to the fresh resolution (the URL the resolver gave, without the directives).
    const tokens = createProxyTokens({ secret: SECRET, previousSecrets: [], ttlSeconds: 3600 });
    const segment = reResolved.body.toString('utf8').split('\n').find((line) => line.startsWith('http'))!;
    const link = openLink(tokens, new URL(segment).pathname.split('/')[3]!, Math.floor(clock / 1000));
    expect(link.lineage?.fingerprint).toBe(entryFingerprint(`${origin.origin}/gen301/hls/video/index.m3u8`));
  });
});
