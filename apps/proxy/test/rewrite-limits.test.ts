import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { request } from 'undici';
import { randomText } from '../../../tools/testing/random-text';
import { pacedPieces } from '../src/rewrite-limits';
import { fetchAll, startResolver, startServer, startTestProxy, type TestProxy, type TestResolver, type TestServer } from './support/servers';

// An upstream playlist must never make the proxy do unbounded work (README, "Limits"): variable
// expansion, URI count and output growth are bounded, each breach a 502 with its own code, and a
// large legitimate playlist is rewritten in paced pieces, so /healthz keeps answering meanwhile.

const MiB = 1024 * 1024;
/** A 1 MiB variable (its line just fits the 1 MiB line limit) referenced `references` times on one URI line. */
const defineAmplifier = (references: number) => `#EXTM3U\n#EXT-X-DEFINE:NAME="v",VALUE="${'a'.repeat(MiB - 64)}"\n#EXTINF:4,\n${'{$v}'.repeat(references)}\n#EXT-X-ENDLIST\n`;
/** A legitimate VOD playlist of `count` segments (about 33 bytes each, ~300 bytes each once rewritten). */
const vodPlaylist = (count: number) =>
  `#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:4\n#EXT-X-PLAYLIST-TYPE:VOD\n${Array.from({ length: count }, (_, i) => `#EXTINF:4.000,\nsegment-${String(i).padStart(6, '0')}.ts\n`).join('')}#EXT-X-ENDLIST\n`;
const segmentUrls = (count: number) =>
  `<?xml version="1.0"?>\n<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static"><Period><AdaptationSet><Representation id="v" bandwidth="1"><SegmentList>${'<SegmentURL media="a"/>'.repeat(count)}</SegmentList></Representation></AdaptationSet></Period></MPD>\n`;

const BODIES: Record<string, () => string> = {
  '/define256.m3u8': () => defineAmplifier(256),
  '/tiny-uris.m3u8': () => `#EXTM3U\n${'a\n'.repeat(1_000_000)}`,
  '/vod.m3u8': () => vodPlaylist(50_000),
  '/vod-small.m3u8': () => vodPlaylist(2_000),
  '/refs.m3u8': () => `#EXTM3U\n#EXT-X-DEFINE:NAME="e",VALUE=""\n${Array.from({ length: 200 }, (_, i) => `#EXTINF:4,\ns${i}{$e}.ts\n`).join('')}`,
  '/segments.mpd': () => segmentUrls(2_000),
  '/long-uris.m3u8': () => `#EXTM3U\n${Array.from({ length: 800 }, (_, i) => `#EXTINF:4,\nseg-${i}.ts?t=${randomText(2000, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789', i)}\n`).join('')}`,
};

let origin: TestServer;
let resolver: TestResolver;
let proxy: TestProxy;
/** A second proxy with low limits, as an operator would set them. */
let strict: TestProxy;
const bodies = new Map<string, Buffer>();

beforeAll(async () => {
  for (const [path, body] of Object.entries(BODIES)) bodies.set(path, Buffer.from(body()));
  origin = await startServer((req, res) => {
    const body = bodies.get(new URL(req.url ?? '/', 'http://cdn').pathname);
    if (body === undefined) {
      res.writeHead(404).end();
      return;
    }
    const type = req.url!.endsWith('.mpd') ? 'application/dash+xml' : 'application/vnd.apple.mpegurl';
    res.writeHead(200, { 'content-type': type, 'content-length': String(body.length) });
    res.end(body);
  });
  resolver = await startResolver(Object.keys(BODIES).map((path) => ({ slug: path.slice(1).replace('.', '-'), url: () => `${origin.origin}${path}` })));
  proxy = await startTestProxy(resolver);
  strict = await startTestProxy(resolver, { STRM_PROXY_PLAYLIST_MAX_URIS: '1000', STRM_PROXY_PLAYLIST_MAX_VARIABLE_REFERENCES: '100', STRM_PROXY_PLAYLIST_MAX_OUTPUT_MIB: '1' });
});

afterAll(async () => {
  await strict?.close(0);
  await proxy?.close(0);
  await resolver?.close();
  await origin?.close();
});

/** GETs an entry URL; the status, the error code, the size of the body and how long it took. */
async function timedFetch(entry: string) {
  const started = performance.now();
  const response = await fetchAll(entry);
  const ms = performance.now() - started;
  const code = response.status === 200 ? undefined : response.json().error.code;
  return { status: response.status, code, contentType: response.headers['content-type'], bytes: response.body.length, body: response.body, ms };
}

/** Peak resident memory of this process (the proxy runs in it), in MiB. */
const peakRssMiB = () => process.resourceUsage().maxRSS / 1024;

describe('amplification is refused at the breach, with its own code', () => {
  test('a 1 MiB EXT-X-DEFINE value referenced 256 times on one URI line: 502 STRM_URI_TOO_LONG at once, no memory blow-up', async () => {
    const peakBefore = peakRssMiB();
    const answer = await timedFetch(proxy.entryUrl('define256-m3u8'));
    const peakGrowth = peakRssMiB() - peakBefore;
    console.log(`define x256: ${answer.status} ${answer.code} in ${answer.ms.toFixed(0)} ms, peak RSS +${peakGrowth.toFixed(0)} MiB`);
    expect(answer).toMatchObject({ status: 502, code: 'STRM_URI_TOO_LONG', contentType: 'application/json; charset=utf-8' });
    // Expanded, the URI would be 256 MiB (and its token more): the peak stays far below one expansion.
    expect(peakGrowth).toBeLessThan(128);
    expect(answer.ms).toBeLessThan(5000);
  });

  test('one million one-character URIs (2 MB): 502 STRM_REWRITE_AMPLIFIED before 1 MiB of output is built', async () => {
    const answer = await timedFetch(proxy.entryUrl('tiny-uris-m3u8'));
    console.log(`1M tiny URIs: ${answer.status} ${answer.code} in ${answer.ms.toFixed(0)} ms`);
    expect(answer).toMatchObject({ status: 502, code: 'STRM_REWRITE_AMPLIFIED' });
    expect(JSON.parse(answer.body.toString('utf8')).error.message).toMatch(/64 times the size of the upstream one/);
    expect(answer.ms).toBeLessThan(5000);
  });

  test.each([
    { slug: 'vod-small-m3u8', code: 'STRM_TOO_MANY_URIS', why: '2,000 URIs, limit 1,000' },
    { slug: 'refs-m3u8', code: 'STRM_TOO_MANY_VARIABLE_REFERENCES', why: '200 references, limit 100' },
    { slug: 'long-uris-m3u8', code: 'STRM_REWRITE_TOO_LARGE', why: '800 URIs of 2 KB (random: tokens do not compress them), about 2.5 MiB once sealed, limit 1 MiB' },
    { slug: 'segments-mpd', code: 'STRM_TOO_MANY_URIS', why: 'an MPD of 2,000 SegmentURLs, limit 1,000' },
  ])('operator limits: $why → 502 $code', async ({ slug, code }) => {
    const answer = await timedFetch(strict.entryUrl(slug));
    expect(answer).toMatchObject({ status: 502, code, contentType: 'application/json; charset=utf-8' });
  });

  test('the same playlists within the default limits are rewritten whole', async () => {
    for (const slug of ['vod-small-m3u8', 'refs-m3u8', 'segments-mpd', 'long-uris-m3u8']) {
      const answer = await timedFetch(proxy.entryUrl(slug));
      expect(answer.status, slug).toBe(200);
    }
  });
});

describe('rewriting yields to the event loop', () => {
  test('/healthz keeps answering (no probe waits a third of the rewrite, nor 1 s) while a 50,000-segment playlist is rewritten', async () => {
    const healthz = `${proxy.url}/healthz`;
    let done = false;
    const playlist = timedFetch(proxy.entryUrl('vod-m3u8')).finally(() => (done = true));
    // Probe from the moment the origin has been asked for the playlist until the answer is complete.
    while (!origin.requests.some((logged) => logged.path === '/vod.m3u8')) await request(healthz).then((response) => response.body.dump());
    const latencies: number[] = [];
    while (!done) {
      const started = performance.now();
      const response = await request(healthz);
      await response.body.dump();
      latencies.push(performance.now() - started);
    }
    const answer = await playlist;
    const uris = answer.body.toString('utf8').split('\n').filter((line) => line !== '' && !line.startsWith('#'));
    console.log(`healthz during a 50k-segment rewrite (${answer.ms.toFixed(0)} ms, ${(answer.bytes / MiB).toFixed(1)} MiB): ${latencies.length} probes, max ${Math.max(...latencies).toFixed(1)} ms`);
    expect(answer.status).toBe(200);
    expect(uris).toHaveLength(50_000);
    expect(answer.body.toString('utf8').endsWith('#EXT-X-ENDLIST\n')).toBe(true);
    // The rewrite lasts long enough for several probes, and none of them waited for it: a probe
    // stuck behind the rewrite would take about as long as the rewrite itself. The bound is
    // generous for a loaded machine (other processes take the CPU for tens of milliseconds).
    expect(latencies.length).toBeGreaterThanOrEqual(5);
    expect(Math.max(...latencies)).toBeLessThan(Math.min(1000, answer.ms / 3));
  });
});

describe('pacedPieces', () => {
  const collect = async (chunks: Buffer[], delimiter: number, work = () => {}) => {
    const pieces: Buffer[] = [];
    for await (const piece of pacedPieces(chunks, delimiter)) {
      pieces.push(piece);
      work();
    }
    return pieces;
  };

  test.each([
    { name: 'one-character lines', body: 'a\n'.repeat(1000), most: 32 },
    { name: 'long lines', body: `${'x'.repeat(5000)}\n`.repeat(10), most: 1 },
    { name: 'no delimiter at all', body: 'y'.repeat(70_000), most: 0 },
  ])('$name: the pieces are the body, each with at most $most delimiters (and a line is never cut)', async ({ body, most }) => {
    const bytes = Buffer.from(body);
    const pieces = await collect([bytes.subarray(0, 3000), bytes.subarray(3000)], 0x0a);
    expect(Buffer.concat(pieces).equals(bytes)).toBe(true);
    for (const piece of pieces) expect(piece.filter((byte) => byte === 0x0a).length).toBeLessThanOrEqual(Math.max(most, 1));
  });

  test('a slow consumer lets the event loop take turns', async () => {
    let turns = 0;
    const ticker = setInterval(() => turns++, 0);
    const busy = () => {
      const until = performance.now() + 1;
      while (performance.now() < until);
    };
    await collect([Buffer.from('a\n'.repeat(3200))], 0x0a, busy);
    clearInterval(ticker);
    // 100 pieces of 1 ms each: a turn every 3 ms lets the interval run many times meanwhile.
    expect(turns).toBeGreaterThanOrEqual(10);
  });
});
