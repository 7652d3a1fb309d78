// Measures what one reload of a live playlist costs the proxy: the rewrite with the proxy's own
// link minter (a token sealed per URI, a file name, a reference), for a live window of 6 and 10
// segments (a reload every 6 seconds) and a long one of 1000. Run it, do not test with it
// (timings vary); the figures are in docs/architecture.md ("Stable links"):
//   node --conditions=@strm/source --import tsx apps/proxy/scripts/measure-live-reload.ts
import { PlaylistRewriter } from '@strm/hls-rewrite';
import { entryFingerprint, linkMinter } from '../src/playlist-links';
import { createProxyTokens } from '../src/tokens';

const BASE = 'https://cdn-fra-17.example-provider.net/hls2/01/08321/abcdefghijklmnop/index-v1-a1.m3u8?t=AbCdEf0123456789_-AbCdEf0123456789_-&e=1893456000';
const HEADERS = {
  Referer: 'https://voe.sx/e/abcdef123456',
  'User-Agent': 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
};
const EPISODE = { site: 'aniworld.to', slug: 'rascal-does-not-dream-of-bunny-girl-senpai', season: 1, episode: 3, language: 'German Dub', provider: 'VOE' };

/** A live media playlist window: `count` 6-second segments with the CDN's signed query, a key and an init section. */
function livePlaylist(count: number, firstSequence: number): Buffer {
  const lines = ['#EXTM3U', '#EXT-X-VERSION:7', '#EXT-X-TARGETDURATION:6', `#EXT-X-MEDIA-SEQUENCE:${firstSequence}`, '#EXT-X-MAP:URI="init-v1-a1.mp4?t=AbCdEf0123456789"'];
  lines.push('#EXT-X-KEY:METHOD=AES-128,URI="https://keys.example-provider.net/k/0831.key?t=AbCdEf0123456789",IV=0x0000000000000000000000000000000A');
  for (let i = 0; i < count; i++) lines.push('#EXTINF:6.000,', `seg-${firstSequence + i}-v1-a1.m4s?t=AbCdEf0123456789_-AbCdEf0123456789_-&e=1893456000`);
  return Buffer.from(`${lines.join('\n')}\n`);
}

const tokens = createProxyTokens({ secret: 'a-long-random-secret-of-the-operator', previousSecrets: [], ttlSeconds: 86_400 });
const lineage = { episode: EPISODE, fingerprint: entryFingerprint('https://cdn.example/master.m3u8'), route: [0] };

function reload(body: Buffer, nowSeconds: number): string {
  const rewriter = new PlaylistRewriter({
    baseUrl: BASE,
    rewriteUri: linkMinter(tokens, { target: { url: BASE, headers: HEADERS }, lineage, subtitles: false, servedFrom: 'proxy', base: 'https://media.example.net', sealTime: () => nowSeconds }),
  });
  return rewriter.push(body) + rewriter.end();
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

const now = Math.floor(Date.now() / 1000);
for (const segments of [6, 10, 1000]) {
  const body = livePlaylist(segments, 1040);
  const runs = segments >= 1000 ? 200 : 5000;
  for (let i = 0; i < Math.min(runs, 500); i++) reload(body, now);
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = process.hrtime.bigint();
    reload(body, now);
    times.push(Number(process.hrtime.bigint() - start) / 1000);
  }
  const same = reload(body, now) === reload(body, now);
  const uris = segments + 2;
  console.log(`${segments} segments (${uris} URIs, ${body.length} bytes): median ${median(times).toFixed(1)} µs per reload, ${(median(times) / uris).toFixed(2)} µs per URI; two reloads equal: ${same}`);
}
