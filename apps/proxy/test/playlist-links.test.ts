import { Readable } from 'node:stream';
import { PlaylistRewriter } from '@strm/hls-rewrite';
import { describe, expect, test } from 'vitest';
import { createMetrics } from '../src/metrics';
import {
  cappedPlaylistChunks, entryFingerprint, linkFromWire, linkMinter, linkToWire, MAX_PLAYLIST_BYTES, openLink, PlaylistTooLargeError, Relocator,
  type LinkLineage, type LinkPayload, type MintingPlaylist,
} from '../src/playlist-links';
import { createProxyTokens } from '../src/tokens';
import { referenceTooLong } from '../src/reference-base';
import { randomText } from '../../../tools/testing/random-text';
import { UpstreamSession } from '../src/upstream-session';
import { counterValue, EPISODE, fakeUpstream, scriptedResolver } from './support/fake-upstream';

// Playlist links without an HTTP server: mint the links of a playlist, open one, let its URL go
// stale, and find it again through a fresh resolution.

const MASTER = '#EXTM3U\n#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="a",NAME="de",URI="audio/de.m3u8"\n#EXT-X-STREAM-INF:BANDWIDTH=1,AUDIO="a"\nvideo/720.m3u8\n';
const VIDEO = '#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXTINF:4,\nseg0.jpg\n#EXTINF:4,\nseg1.jpg?sig=x\n#EXT-X-ENDLIST\n';
const tokens = createProxyTokens({ secret: 'links-test-secret', previousSecrets: [], ttlSeconds: 3600 });
const now = () => Math.floor(Date.now() / 1000);

/** Rewrites a playlist with the proxy's minter and opens every link it wrote. */
function mintAll(text: string, baseUrl: string, playlist: Omit<MintingPlaylist, 'target'>): { references: string[]; links: LinkPayload[] } {
  const rewriter = new PlaylistRewriter({ baseUrl, rewriteUri: linkMinter(tokens, { ...playlist, target: { url: baseUrl, headers: { referer: 'https://provider.example/' } } }) });
  const output = rewriter.push(Buffer.from(text)) + rewriter.end();
  const references = output.split('\n').flatMap((line) => (line.startsWith('#') ? [...line.matchAll(/URI="([^"]+)"/g)].map((m) => m[1]!) : line === '' ? [] : [line]));
  const links = references.map((reference) => openLink(tokens, reference.split('/').at(-2)!, now()));
  return { references, links };
}

/** Generations whose URLs the CDN refuses (403), for the sessions below. */
const staleGenerations = new Set<string>();

function cdn() {
  const upstream = fakeUpstream((request) => {
    const path = new URL(request.url).pathname;
    if (staleGenerations.has(path.split('/')[1]!)) return { status: 403 };
    if (/^\/gen\d+\/master\.m3u8$/.test(path)) return { status: 200, body: MASTER };
    if (/^\/gen\d+\/video\/720\.m3u8$/.test(path)) return { status: 200, body: VIDEO };
    if (/^\/gen\d+\/video\/seg\d\.jpg$/.test(path)) return { status: 200, body: 'media' };
    return { status: 404 };
  });
  const resolver = scriptedResolver(({ count }) => `https://cdn.example/gen${count}/master.m3u8`);
  const metrics = createMetrics({ defaults: false });
  return { upstream, resolver, metrics, relocator: new Relocator({ upstream, metrics, resolver }) };
}

describe('minting', () => {
  test('each URI becomes a relative link named for players, carrying its URL, kind, headers and route', () => {
    const entry = 'https://cdn.example/gen1/master.m3u8';
    const lineage: LinkLineage = { episode: EPISODE, fingerprint: entryFingerprint(entry), route: [] };
    const { references, links } = mintAll(MASTER, entry, { lineage, subtitles: false, servedFrom: 'stream' });
    expect(references.map((reference) => reference.replace(/^proxy\/[^/]+\//, 'proxy/<token>/'))).toEqual(['proxy/<token>/de.m3u8', 'proxy/<token>/720.m3u8']);
    expect(links).toEqual([
      { url: 'https://cdn.example/gen1/audio/de.m3u8', headers: { referer: 'https://provider.example/' }, kind: 'playlist', lineage: { ...lineage, route: [0] }, subtitles: false },
      { url: 'https://cdn.example/gen1/video/720.m3u8', headers: { referer: 'https://provider.example/' }, kind: 'playlist', lineage: { ...lineage, route: [1] }, subtitles: false },
    ]);
  });

  test('the wire form uses the short keys, and reads back to the same link', () => {
    const link: LinkPayload = { url: 'https://cdn.example/a.ts', headers: { referer: 'r' }, kind: 'segment', lineage: { episode: EPISODE, fingerprint: 'abcdefghijk', route: [1, 2] }, subtitles: true };
    const wire = linkToWire(link);
    expect(wire).toEqual({ u: 'https://cdn.example/a.ts', k: 'segment', h: { referer: 'r' }, s: 1, i: ['aniworld.to', 'show', 1, 2, 'German Dub'], e: 'abcdefghijk', r: [1, 2] });
    expect(linkFromWire(wire)).toEqual(link);
    expect(linkToWire({ ...link, headers: {}, lineage: undefined, subtitles: false })).toEqual({ u: 'https://cdn.example/a.ts', k: 'segment' });
  });
});

describe('steering links', () => {
  const steeringMaster = (serverUri: string) => `#EXTM3U\n#EXT-X-CONTENT-STEERING:SERVER-URI="${serverUri}"\n#EXT-X-STREAM-INF:BANDWIDTH=1\nv.m3u8\n`;
  const lineage: LinkLineage = { episode: EPISODE, fingerprint: 'abcdefghijk', route: [] };

  test('a steering link carries the multivariant playlist\'s URL, from which its HOST/PARAMS clones are expanded', () => {
    const entry = 'https://cdn.example/gen1/master.m3u8?sig=1';
    const { links } = mintAll(steeringMaster('steer.json'), entry, { lineage, subtitles: false, servedFrom: 'stream' });
    expect(links[0]).toMatchObject({ url: 'https://cdn.example/gen1/steer.json', kind: 'steering', multivariant: entry, lineage: { route: [0] } });
    expect(links[1]!.multivariant).toBeUndefined();
  });

  test('a steering link that would be too long with that URL goes without it, rather than failing the whole playlist', () => {
    // Random text does not deflate: two 2,400-character URLs do not fit one link, one does.
    const entry = `https://cdn.example/master.m3u8?t=${randomText(2400, 'abcdefghijklmnopqrstuvwxyz0123456789', 7)}`;
    const { references, links } = mintAll(steeringMaster(`https://steer.example/m.json?t=${randomText(2400, 'abcdefghijklmnopqrstuvwxyz0123456789', 8)}`), entry, { lineage, subtitles: false, servedFrom: 'stream' });
    expect(links[0]).toMatchObject({ kind: 'steering' });
    expect(links[0]!.multivariant).toBeUndefined();
    expect(referenceTooLong(references[0]!)).toBe(false);
  });
});

describe('mint → stale → relocate', () => {
  test('a segment link of a stale generation is found again in the fresh one after one re-resolution', async () => {
    const { resolver, relocator, metrics } = cdn();
    const entry = (await resolver.resolve(EPISODE)).resolution.url;
    const master = mintAll(MASTER, entry, { lineage: { episode: EPISODE, fingerprint: entryFingerprint(entry), route: [] }, subtitles: false, servedFrom: 'stream' });
    const video = master.links[1]!;
    const segments = mintAll(VIDEO, video.url, { lineage: video.lineage, subtitles: false, servedFrom: 'proxy' });
    expect(segments.references[1]).toMatch(/^\.\.\/\.\.\/proxy\/[^/]+\/seg1\.ts$/);
    const stale = segments.links[1]!;
    expect(stale.url).toBe('https://cdn.example/gen1/video/seg1.jpg?sig=x');
    // Index 1 in the multivariant playlist, then the segment position of seg1 (sequence number 1: group 2, ordinal 0).
    expect(stale.lineage?.route).toEqual([1, -(1 + 2 * 65_536)]);

    const fresh = await relocator.relocate(stale.lineage!, { staleUrl: stale.url });
    expect(fresh).toEqual({
      target: { url: 'https://cdn.example/gen2/video/seg1.jpg?sig=x', headers: { referer: 'https://provider.example/' } },
      reResolved: true,
      generation: entryFingerprint('https://cdn.example/gen2/master.m3u8'),
    });
    // A sibling of the same stale generation shares the fresh resolution: no second refresh.
    expect(await relocator.relocate(segments.links[0]!.lineage!)).toMatchObject({ target: { url: 'https://cdn.example/gen2/video/seg0.jpg' }, reResolved: false });
    expect(resolver.refreshes()).toBe(1);
    // The fresh playlists were fetched like any upstream request: counted.
    expect(await counterValue(metrics.upstreamResponses, { class: '2xx' })).toBe(2);
  });

  test('a route of plain indexes (links minted before segment positions) still relocates', async () => {
    const { resolver, relocator } = cdn();
    const entry = (await resolver.resolve(EPISODE)).resolution.url;
    expect(await relocator.relocate({ episode: EPISODE, fingerprint: entryFingerprint(entry), route: [1, 1] })).toMatchObject({ target: { url: 'https://cdn.example/gen2/video/seg1.jpg?sig=x' } });
  });

  test('a live window that slid between mint and relocation: the stale link finds its own segment, by media sequence number', async () => {
    const live = (generation: number, first: number) =>
      `#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXT-X-MEDIA-SEQUENCE:${first}\n#EXT-X-MAP:URI="init.mp4?g=${generation}"\n` +
      Array.from({ length: 4 }, (_, i) => `#EXTINF:6,\nseg-${first + i}.m4s?g=${generation}\n`).join('');
    const upstream = fakeUpstream((request) => {
      const match = /^\/gen(\d+)\/(master|video\/720)\.m3u8$/.exec(new URL(request.url).pathname);
      if (match === null) return { status: 404 };
      // Generation 2 is fetched later: its window has slid by one segment.
      return { status: 200, body: match[2] === 'master' ? MASTER : live(Number(match[1]), 9 + Number(match[1])) };
    });
    const resolver = scriptedResolver(({ count }) => `https://cdn.example/gen${count}/master.m3u8`);
    const relocator = new Relocator({ upstream, metrics: createMetrics({ defaults: false }), resolver });
    const entry = (await resolver.resolve(EPISODE)).resolution.url;
    const video = mintAll(MASTER, entry, { lineage: { episode: EPISODE, fingerprint: entryFingerprint(entry), route: [] }, subtitles: false, servedFrom: 'stream' }).links[1]!;
    const minted = mintAll(live(1, 10), video.url, { lineage: video.lineage, subtitles: false, servedFrom: 'proxy' }).links;
    expect(minted.map((link) => link.url.replace('https://cdn.example/gen1/video/', ''))).toEqual(['init.mp4?g=1', 'seg-10.m4s?g=1', 'seg-11.m4s?g=1', 'seg-12.m4s?g=1', 'seg-13.m4s?g=1']);
    expect(await relocator.relocate(minted[3]!.lineage!)).toMatchObject({ target: { url: 'https://cdn.example/gen2/video/seg-12.m4s?g=2' } });
    expect(await relocator.relocate(minted[0]!.lineage!)).toMatchObject({ target: { url: 'https://cdn.example/gen2/video/init.mp4?g=2' } });
    // seg-10 left the window: nothing to relocate to, rather than the segment that took its index.
    expect(await relocator.relocate(minted[1]!.lineage!)).toBeUndefined();
  });

  test('a route that leads nowhere in the fresh playlists relocates to nothing', async () => {
    const { resolver, relocator } = cdn();
    const entry = (await resolver.resolve(EPISODE)).resolution.url;
    expect(await relocator.relocate({ episode: EPISODE, fingerprint: entryFingerprint(entry), route: [1, 7] })).toBeUndefined();
  });
});

describe('sessions of stale links', () => {
  /** The master and video playlists minted from the current resolution, and a session for one of the video's links. */
  async function played() {
    const stack = cdn();
    const entry = (await stack.resolver.resolve(EPISODE)).resolution.url;
    const master = mintAll(MASTER, entry, { lineage: { episode: EPISODE, fingerprint: entryFingerprint(entry), route: [] }, subtitles: false, servedFrom: 'stream' });
    const video = master.links[1]!;
    const segments = mintAll(VIDEO, video.url, { lineage: video.lineage, subtitles: false, servedFrom: 'proxy' }).links;
    const session = (link: LinkPayload) => new UpstreamSession(stack, {
      target: { url: link.url, headers: link.headers },
      source: { kind: 'link', lineage: link.lineage },
      route: 'proxy',
      signal: new AbortController().signal,
    });
    return { ...stack, segments, session };
  }

  test('a second expiry: a link relocated through the cached resolution whose new URL is stale too is relocated once more, re-resolving', async () => {
    staleGenerations.clear();
    const { upstream, resolver, segments, session } = await played();
    try {
      staleGenerations.add('gen1');
      const first = session(segments[0]!);
      expect((await first.fetch('GET', {})).status).toBe(200);
      expect(first.target.url).toBe('https://cdn.example/gen2/video/seg0.jpg');
      // Later in the same playback the fresh generation expires too; the player still holds gen1 links.
      staleGenerations.add('gen2');
      const from = upstream.requests.length;
      const second = session(segments[1]!);
      const answer = await second.fetch('GET', {});
      expect(answer.status).toBe(200);
      expect(second.target.url).toBe('https://cdn.example/gen3/video/seg1.jpg?sig=x');
      expect(upstream.requests.slice(from).map((request) => new URL(request.url).pathname)).toEqual([
        // Known to have moved: asked at gen2 first, stale; then found in gen3.
        '/gen2/video/seg1.jpg', '/gen3/master.m3u8', '/gen3/video/720.m3u8', '/gen3/video/seg1.jpg',
      ]);
      expect(second.relocatedAhead).toBe(true);
      expect(second.refreshes).toBe(1);
      expect(resolver.refreshes()).toBe(2);
    } finally {
      staleGenerations.clear();
    }
  });

  test('a second expiry without knowing ahead (the link\'s playlist not yet seen stale): its fresh playlist answers stale, so the episode is resolved again', async () => {
    staleGenerations.clear();
    const { upstream, resolver, relocator, segments, session } = await played();
    try {
      // Another playlist of gen1 moved to gen2 (the episode was re-resolved for it); this one was not seen stale.
      staleGenerations.add('gen1');
      await relocator.relocate({ ...segments[0]!.lineage!, route: [0] }, { staleUrl: 'https://cdn.example/gen1/audio/de.m3u8' });
      staleGenerations.add('gen2');
      const from = upstream.requests.length;
      const link = session(segments[1]!);
      expect((await link.fetch('GET', {})).status).toBe(200);
      expect(upstream.requests.slice(from).map((request) => new URL(request.url).pathname)).toEqual([
        '/gen1/video/seg1.jpg', '/gen2/video/720.m3u8', '/gen3/master.m3u8', '/gen3/video/720.m3u8', '/gen3/video/seg1.jpg',
      ]);
      expect(link.refreshes).toBe(1);
      expect(resolver.refreshes()).toBe(2);
    } finally {
      staleGenerations.clear();
    }
  });

  test('the answer after a re-resolution is final: a link whose fresh URL is stale too is not relocated again', async () => {
    staleGenerations.clear();
    const { resolver, segments, session } = await played();
    try {
      for (const generation of ['gen1', 'gen2', 'gen3']) staleGenerations.add(generation);
      const link = session(segments[0]!);
      expect((await link.fetch('GET', {})).status).toBe(403);
      expect(resolver.refreshes()).toBe(1);
    } finally {
      staleGenerations.clear();
    }
  });
});

describe('cappedPlaylistChunks', () => {
  test('passes the head, then the body, chunk by chunk', async () => {
    const chunks: string[] = [];
    for await (const chunk of cappedPlaylistChunks([Buffer.from('#EXT')], Readable.from([Buffer.from('M3U\n'), Buffer.from('a.ts\n')]))) chunks.push(chunk.toString());
    expect(chunks).toEqual(['#EXT', 'M3U\n', 'a.ts\n']);
  });

  test(`stops with PlaylistTooLargeError past ${MAX_PLAYLIST_BYTES} bytes`, async () => {
    const mebibyte = Buffer.alloc(1024 * 1024, 0x61);
    const body = Readable.from(Array.from({ length: 17 }, () => mebibyte));
    let read = 0;
    await expect((async () => {
      for await (const chunk of cappedPlaylistChunks([], body)) read += chunk.length;
    })()).rejects.toThrow(PlaylistTooLargeError);
    expect(read).toBe(MAX_PLAYLIST_BYTES);
  });
});
