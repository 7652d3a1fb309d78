import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { fetchAll, mediaBytes, serveBytes, startResolver, startServer, startTestProxy, type TestProxy, type TestResolver, type TestServer } from './support/servers';

// Deterministic links: a live playlist reloaded through the proxy repeats the URIs it gave the
// first time (the same upstream URL, headers and lineage seal to the same token within an expiry
// bucket), so players and caches recognise what they hold. The proxy's clock is injected: the
// expiry bucket of the default lifetime (86400 s) is an hour, and links are sealed on a grid of
// 6 hours (seal-times.ts), both counted from the epoch.

const HOUR_MS = 3_600_000;
/** 2026-12-01T12:00:00Z, the start of a bucket. */
const START_MS = Date.UTC(2026, 11, 1, 12);
let clock = START_MS;
const SEGMENT = mediaBytes(2000);
let origin: TestServer;
let resolver: TestResolver;
let proxy: TestProxy;
let replica: TestProxy;

const MASTER = '#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=800000\nlive/720.m3u8\n#EXT-X-STREAM-INF:BANDWIDTH=400000\nlive/360.m3u8\n';
/** The first segment of the live window; a test slides it. */
let windowStart = 1040;
/** A live media playlist (no ENDLIST): six 6-second segments from `windowStart`, with a key and an init section at its top. */
function live(): string {
  return [
    '#EXTM3U',
    '#EXT-X-VERSION:7',
    '#EXT-X-TARGETDURATION:6',
    `#EXT-X-MEDIA-SEQUENCE:${windowStart}`,
    '#EXT-X-MAP:URI="init.mp4"',
    '#EXT-X-KEY:METHOD=AES-128,URI="keys/k7.bin?sig=abc",IV=0x0000000000000000000000000000000A',
    ...Array.from({ length: 6 }, (_, i) => `#EXTINF:6.0,\nseg-${windowStart + i}.m4s?sig=s${windowStart + i}`),
    '',
  ].join('\n');
}

beforeAll(async () => {
  origin = await startServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://cdn').pathname;
    const text = (body: string) => {
      res.writeHead(200, { 'content-type': 'application/vnd.apple.mpegurl', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    };
    if (path === '/show/master.m3u8') return text(MASTER);
    if (path === '/show/live/720.m3u8' || path === '/show/live/360.m3u8') return text(live());
    if (path.startsWith('/show/live/')) return serveBytes(req, res, SEGMENT, { contentType: 'video/mp4' });
    res.writeHead(404);
    res.end();
  });
  resolver = await startResolver([{ slug: 'live', url: () => `${origin.origin}/show/master.m3u8`, headers: { Referer: 'https://provider.example/' } }]);
  proxy = await startTestProxy(resolver, {}, { now: () => clock });
  replica = await startTestProxy(resolver, {}, { now: () => clock });
});

afterAll(async () => {
  await proxy?.close(0);
  await replica?.close(0);
  await resolver?.close();
  await origin?.close();
});

/** The URIs of a playlist, in order: URI lines and URI="…" attributes. */
function references(playlist: string): string[] {
  return playlist.split('\n').flatMap((line) => (line.startsWith('#') ? [...line.matchAll(/URI="([^"]+)"/g)].map((m) => m[1]!) : line === '' ? [] : [line]));
}
const tokenOf = (reference: string) => reference.split('/').at(-2)!;

async function text(url: string): Promise<string> {
  const response = await fetchAll(url);
  expect(response.status).toBe(200);
  return response.body.toString('utf8');
}

describe('the same link seals to the same proxy URI', () => {
  test('a live media playlist reloaded through the proxy (6 s apart, then 59 min later) is byte for byte the same answer', async () => {
    clock = START_MS;
    const child = references(await text(proxy.entryUrl('live')))[0]!;
    const first = await text(child);
    expect(references(first)).toHaveLength(8);
    clock = START_MS + 6000;
    expect(await text(child)).toBe(first);
    clock = START_MS + HOUR_MS - 1000;
    expect(await text(child)).toBe(first);
    // The entry playlist too: its variant links are the same ones.
    expect(references(await text(proxy.entryUrl('live')))[0]).toBe(child);
  });

  test('the live window slides by a segment: the init section, the key and the five segments still in it keep their URIs', async () => {
    clock = START_MS;
    windowStart = 1040;
    const child = references(await text(proxy.entryUrl('live')))[0]!;
    const before = references(await text(child));
    windowStart = 1041;
    clock = START_MS + 6000;
    const after = references(await text(child));
    windowStart = 1040;
    expect(after.slice(0, 2)).toEqual(before.slice(0, 2));
    expect(after.slice(2, 7)).toEqual(before.slice(3, 8));
    expect(before).not.toContain(after[7]);
    const segment = await fetchAll(after[2]!);
    expect(segment.status).toBe(200);
    expect(origin.requests.at(-1)!.path).toBe('/show/live/seg-1041.m4s?sig=s1041');
  });

  test('two replicas with the same secret hand out the same tokens', async () => {
    clock = START_MS + 60_000;
    const here = references(await text(proxy.entryUrl('live'))).map(tokenOf);
    const there = references(await text(replica.entryUrl('live'))).map(tokenOf);
    expect(there).toEqual(here);
  });

  test('different links of one playlist (another rendition, another segment) never share a token', async () => {
    clock = START_MS;
    const [video720, video360] = references(await text(proxy.entryUrl('live')));
    const a = references(await text(video720!));
    const b = references(await text(video360!));
    expect(new Set([...a, ...b]).size).toBe(a.length + b.length);
  });

  test('a live playlist reloaded in the next expiry bucket keeps the URI of every link it listed; a new segment plays', async () => {
    // hls.js stops a live playback whose reload names a segment it holds by another URI.
    clock = START_MS + 30 * 60_000;
    windowStart = 1040;
    const child = references(await text(proxy.entryUrl('live')))[1]!;
    const before = references(await text(child));
    clock = START_MS + HOUR_MS + 5000;
    windowStart = 1041;
    const after = references(await text(child));
    windowStart = 1040;
    expect(after.slice(0, 7)).toEqual([...before.slice(0, 2), ...before.slice(3, 8)]);
    const added = await fetchAll(after[7]!);
    expect(added.status).toBe(200);
    expect(origin.requests.at(-1)!.path).toBe('/show/live/seg-1046.m4s?sig=s1046');
  });

  test('a replica started an hour later seals as this one did; one started a quarter lifetime later gets new tokens, and the old links still play', async () => {
    // Links are sealed on a grid of a quarter lifetime (6 h at the default), counted from the epoch.
    clock = START_MS;
    const before = references(await text(proxy.entryUrl('live')));
    const later = await startTestProxy(resolver, {}, { now: () => clock });
    const muchLater = await startTestProxy(resolver, {}, { now: () => clock });
    try {
      clock = START_MS + HOUR_MS;
      expect(references(await text(later.entryUrl('live'))).map(tokenOf)).toEqual(before.map(tokenOf));
      clock = START_MS + 6 * HOUR_MS;
      const after = references(await text(muchLater.entryUrl('live'))).map(tokenOf);
      expect(after.filter((token) => before.map(tokenOf).includes(token))).toEqual([]);
      const old = await fetchAll(references(await text(before[0]!))[2]!);
      expect(old.status).toBe(200);
      expect(old.body.equals(SEGMENT)).toBe(true);
    } finally {
      await later.close(0);
      await muchLater.close(0);
    }
  });
});
