// Memory of the proxy over minutes of live playlist reloads: a measurement, not a test. The real
// proxy runs in a child process (test/support/child-proxy.ts) in front of the fake CDN's live
// origins; `--clients` players reload the sliding-window playlist once a second, as many do
// LL-HLS blocking reloads part after part (with delta updates), and each fetches the newest
// segment or part it learns of. Every `--sample` seconds the proxy's RSS and heap are read after
// two forced GCs; the first minute is the warm-up, the growth after it is the figure.
//
//   node --conditions=@strm/source --import tsx apps/e2e/scripts/live-reload-memory.ts --minutes 10 --clients 20
import { parseArgs } from 'node:util';
import { request } from 'undici';
import { signedEntryUrl } from '@strm/signing';
import { startFakeCdn } from '../src/fake-cdn';
import { startFakeResolver } from '../src/fake-resolver';
import { startChildProxy } from '../test/support/child-proxy';
import { liveMedia } from '../test/support/media';
import { episode } from '../test/support/stack';

const { values } = parseArgs({ options: { minutes: { type: 'string', default: '10' }, clients: { type: 'string', default: '20' }, sample: { type: 'string', default: '30' } } });
const minutes = Number(values.minutes);
const clients = Number(values.clients);
const sampleSeconds = Number(values.sample);
const SECRET = 'live-memory-secret-0123456789';

const catalog = Array.from({ length: clients }, (_, index) => [episode('live', index + 1, 'live/index.m3u8'), episode('ll', index + 1, 'll/master.m3u8')]).flat();
const cdn = await startFakeCdn({ live: { media: await liveMedia() } });
const resolver = await startFakeResolver({ cdn, catalog });
const proxy = await startChildProxy({ STRM_PROXY_SECRET: SECRET, STRM_RESOLVER_URL: resolver.url, STRM_PROXY_UPSTREAM_ALLOWLIST: '127.0.0.1', LOG_LEVEL: 'warn', NODE_OPTIONS: '--heapsnapshot-signal=SIGUSR2' });
const entry = (identity: (typeof catalog)[number]) =>
  signedEntryUrl(`${proxy.url}/strm/stream`, { site: identity.site, slug: identity.slug, s: identity.season, e: identity.episode, lang: identity.language }, SECRET);

const endAt = Date.now() + minutes * 60_000;
const counts = { playlists: 0, media: 0, failures: 0 };

async function text(url: string): Promise<string> {
  const response = await request(url);
  const body = await response.body.text();
  if (response.statusCode !== 200) throw new Error(`${response.statusCode} ${body.slice(0, 200)}`);
  counts.playlists += 1;
  return body;
}

async function media(url: string, range?: string): Promise<void> {
  const response = await request(url, range === undefined ? {} : { headers: { range } });
  await response.body.dump({ limit: Infinity });
  counts.media += 1;
}

/** A sliding-window player: the playlist once a second, and each new segment once. */
async function livePlayer(url: string): Promise<void> {
  let last = '';
  while (Date.now() < endAt) {
    const playlist = await text(url);
    const newest = playlist.trimEnd().split('\n').at(-1)!;
    if (newest !== last) await media(newest);
    last = newest;
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

/** An LL-HLS player: blocking reloads for the next part, delta updates, each new part fetched by its byte range. */
async function llPlayer(url: string): Promise<void> {
  const master = await text(url);
  const mediaUrl = master.split('\n').find((line) => line.startsWith('http'))!;
  let playlist = await text(mediaUrl);
  while (Date.now() < endAt) {
    const sequence = Number(/#EXT-X-MEDIA-SEQUENCE:(\d+)/.exec(playlist)![1]);
    const segments = playlist.split('\n').filter((line) => line.startsWith('#EXTINF')).length + Number(/SKIPPED-SEGMENTS=(\d+)/.exec(playlist)?.[1] ?? 0);
    const parts = playlist.split('\n').slice(playlist.split('\n').findLastIndex((line) => line.startsWith('#EXTINF')) + 1).filter((line) => line.startsWith('#EXT-X-PART:'));
    const part = parts.at(-1);
    if (part !== undefined) {
      const [, length, offset] = /BYTERANGE="(\d+)@(\d+)"/.exec(part)!;
      await media(/URI="([^"]+)"/.exec(part)![1]!, `bytes=${offset}-${Number(offset) + Number(length) - 1}`);
    }
    playlist = await text(`${mediaUrl}?_HLS_msn=${sequence + segments}&_HLS_part=${parts.length}&_HLS_skip=YES`);
  }
}

async function keepPlaying(player: () => Promise<void>): Promise<void> {
  while (Date.now() < endAt) {
    try {
      await player();
    } catch (error) {
      counts.failures += 1;
      if (counts.failures <= 5) console.error(`player failure: ${(error as Error).message}`);
    }
  }
}

const mib = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);
const samples: Array<{ minute: number; rss: number; heapUsed: number; external: number; playlists: number }> = [];
const startedAt = Date.now();
const players = catalog.map((identity) => keepPlaying(() => (identity.slug === 'live' ? livePlayer(entry(identity)) : llPlayer(entry(identity)))));
console.log(`${clients} sliding-window and ${clients} LL-HLS players for ${minutes} min against the proxy (pid ${proxy.pid}); sampling every ${sampleSeconds} s`);
console.log('minute  rss MiB  heap MiB  external MiB  playlists  media');
while (Date.now() < endAt) {
  await new Promise((resolve) => setTimeout(resolve, Math.min(sampleSeconds * 1000, Math.max(0, endAt - Date.now()))));
  const memory = await proxy.memory();
  const at = (Date.now() - startedAt) / 60_000;
  if ((at > 4.9 && at < 5.4) || (at > Number(values.minutes) - 0.3)) { process.kill(proxy.pid, 'SIGUSR2'); console.log('snapshot asked at', at.toFixed(1)); await new Promise((r) => setTimeout(r, 5000)); }
  const minute = (Date.now() - startedAt) / 60_000;
  samples.push({ minute, rss: memory.rss, heapUsed: memory.heapUsed, external: memory.external, playlists: counts.playlists });
  console.log(`${minute.toFixed(1).padStart(6)}  ${mib(memory.rss).padStart(7)}  ${mib(memory.heapUsed).padStart(8)}  ${mib(memory.external).padStart(12)}  ${String(counts.playlists).padStart(9)}  ${String(counts.media).padStart(5)}`);
}
await Promise.all(players);
const warm = samples.find((sample) => sample.minute >= 1) ?? samples[0]!;
const last = samples.at(-1)!;
console.log(
  `after warm-up (minute ${warm.minute.toFixed(1)} → ${last.minute.toFixed(1)}): rss ${mib(warm.rss)} → ${mib(last.rss)} MiB (${mib(last.rss - warm.rss)}), ` +
    `heap ${mib(warm.heapUsed)} → ${mib(last.heapUsed)} MiB (${mib(last.heapUsed - warm.heapUsed)}); ${counts.playlists} playlists, ${counts.media} segments and parts, ${counts.failures} player failures`,
);
await proxy.close();
await resolver.close();
await cdn.close();
