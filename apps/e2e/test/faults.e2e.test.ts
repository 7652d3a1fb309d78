import { createHash } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { bigFileBytes, hashBigFile } from '../src/fake-cdn';
import { mediaDirWithLargeMp4s } from './support/media';
import { cdnRequestsOf, cdnRequestsUnder, episode, startStack, type Stack } from './support/stack';
import { firstFrameDifference, framemd5, redact, runTool } from './support/tools';

// The ways real CDNs misbehave, each switched on for one episode: playback through the proxy must
// complete with the bytes (or frames) a healthy origin gives directly.
const MiB = 1024 * 1024;
const BIG = 8 * MiB;
const REFERER = 'https://aniworld.to/';
const episodes = {
  expiring: episode('faults', 1, 'hls-fmp4/master.m3u8', { faults: { expireAfterUses: 5 } }),
  droppingBig: episode('faults', 2, `big/${BIG}.bin`, { faults: { dropAfterBytes: 3 * MiB, dropTimes: 2 } }),
  droppingMp4: episode('faults', 3, 'seek-faststart/video.mp4', { faults: { dropAfterBytes: 700_000 } }),
  referer: episode('faults', 4, 'hls-ts/master.m3u8', { faults: { requireReferer: REFERER }, headers: { Referer: REFERER } }),
  redirectHls: episode('faults', 5, 'hls-fmp4/master.m3u8', { faults: { redirectToHost: 'localhost' } }),
  redirectMp4: episode('faults', 6, 'mp4-faststart/video.mp4', { faults: { redirectToHost: 'localhost' } }),
  ignoresRangeMp4: episode('faults', 7, 'seek-moov-end/video.mp4', { faults: { ignoreRange: true } }),
  ignoresRangeBig: episode('faults', 8, `big/${BIG}.bin`, { faults: { ignoreRange: true } }),
  burstOf2: episode('faults', 9, 'mp4-faststart/video.mp4', { faults: { failFirst: { count: 2, status: 503 } } }),
  burstOf2Hls: episode('faults', 10, 'hls-byterange/index.m3u8', { faults: { failFirst: { count: 2, status: 502 } } }),
  burstOf3: episode('faults', 11, 'mp4-faststart/video.mp4', { faults: { failFirst: { count: 3, status: 503 } } }),
  resolver503: episode('faults', 12, 'mp4-faststart/video.mp4'),
  resolverJunk: episode('faults', 13, 'mp4-faststart/video.mp4'),
  resolverGone: episode('faults', 14, 'mp4-faststart/video.mp4'),
};

let stack: Stack;
let mediaDir: string | undefined;
beforeAll(async () => {
  mediaDir = await mediaDirWithLargeMp4s();
  stack = await startStack({ catalog: Object.values(episodes), mediaDir });
});
afterAll(async () => {
  await stack?.close();
  if (mediaDir !== undefined) await rm(mediaDir, { recursive: true, force: true });
});

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const statuses = (requests: ReturnType<typeof cdnRequestsOf>) => requests.map((r) => `${r.status}${r.fault ? `(${r.fault})` : ''}`).join(' ');

async function fetchBody(url: string, headers: Record<string, string> = {}) {
  const response = await request(url, { headers });
  return { status: response.statusCode, headers: response.headers, body: Buffer.from(await response.body.arrayBuffer()) };
}

describe('faults of the origin, played through the proxy', () => {
  test('a URL that expires mid-playback (403 after 5 uses): one re-resolution, stale segments relocated, the same framemd5', async () => {
    const entry = episodes.expiring;
    const directUrl = stack.cdn.issue(entry.path);
    const direct = await framemd5(directUrl);
    const logFrom = stack.logs.length;
    const proxied = await framemd5(stack.entryUrl(entry));
    const upstream = cdnRequestsOf(stack, entry);
    const hits = stack.resolver.hits(entry);
    // ffmpeg asks the proxy what it asked the CDN directly; each of those requests gets its line.
    const lines = await stack.requestLinesLogged(cdnRequestsUnder(stack, directUrl).length, logFrom);
    const refreshed = lines.filter((line) => (line.refreshes ?? 0) > 0);
    console.log(
      `faults expiry: ${proxied.frames.length} frames through the proxy, ${direct.frames.length} directly; resolver ${JSON.stringify(hits)}; ` +
        `CDN: ${upstream.map((r) => `${r.resource.split('/').pop()}:${r.status}${r.fault ? `(${r.fault})` : ''}`).join(' ')}; ` +
        `proxy lines with a refresh: ${refreshed.map((line) => `${line.path} ${line.status}`).join(', ')}`,
    );
    expect(firstFrameDifference(direct, proxied), 'hls-fmp4 expiring: framemd5 differs').toBeUndefined();
    expect(hits).toEqual({ total: 2, plain: 1, refresh: 1 });
    // Segments ffmpeg found in the stale playlist still name the old URL: the first one 403s and is
    // relocated through the fresh playlists; the others of that playlist are then asked at their
    // fresh URL directly (relocated ahead): one refused request in all, not one per segment.
    const [staleToken, freshToken] = stack.resolver.issuedUrls(entry).map((url) => /\/t\/([^/]+)\//.exec(url)?.[1]);
    const expired = upstream.filter((r) => r.fault === 'expired-uses');
    expect(expired).toHaveLength(1);
    expect(lines.filter((line) => line.relocatedAhead === true).length).toBeGreaterThan(0);
    expect(expired.every((r) => r.token === staleToken)).toBe(true);
    expect(upstream.filter((r) => r.token === freshToken).map((r) => r.status < 300)).not.toContain(false);
    expect(refreshed.length).toBe(expired.length);
    expect(refreshed.every((line) => line.status < 300)).toBe(true);
  });

  test(`the origin drops the connection after 3 MiB, twice, into an ${BIG / MiB} MiB file: identical bytes, resumed with Range + If-Range`, async () => {
    const entry = episodes.droppingBig;
    const from = stack.logs.length;
    const { status, body } = await fetchBody(stack.entryUrl(entry));
    const upstream = cdnRequestsOf(stack, entry);
    const [line] = await stack.requestLinesLogged(1, from);
    console.log(
      `faults drop: ${status}, ${body.length} B sha256 ${sha256(body).slice(0, 16)} (expected ${BIG} B sha256 ${hashBigFile(0, BIG).slice(0, 16)}); ` +
        `CDN: ${upstream.map((r) => `${r.range ?? 'no range'} if-range ${r.ifRange ?? '-'} → ${r.status} ${r.bytesSent} B${r.fault ? ` (${r.fault})` : ''}`).join('; ')}; ` +
        `proxy line resumes=${line?.resumes}`,
    );
    expect(status).toBe(200);
    expect(body.length).toBe(BIG);
    expect(sha256(body), firstDifferenceFromBig(body)).toBe(hashBigFile(0, BIG));
    expect(upstream.map((r) => r.range?.replace(/-\d+$/, '-'))).toEqual([undefined, `bytes=${3 * MiB}-`, `bytes=${6 * MiB}-`]);
    expect(upstream.slice(1).every((r) => r.ifRange === '"big-8388608"' && r.status === 206)).toBe(true);
    expect(line?.resumes).toBe(2);
  });

  test('the origin drops the connection while ffmpeg reads a 2 MB MP4: the same framemd5 as directly', async () => {
    const entry = episodes.droppingMp4;
    const direct = await framemd5(stack.cdn.issue(entry.path));
    const proxied = await framemd5(stack.entryUrl(entry));
    const upstream = cdnRequestsOf(stack, entry);
    console.log(`faults drop (ffmpeg): ${proxied.frames.length} frames proxied, ${direct.frames.length} direct; CDN: ${upstream.map((r) => `${r.range ?? 'none'}→${r.status} ${r.bytesSent} B${r.fault ? ` (${r.fault})` : ''}`).join('; ')}`);
    expect(firstFrameDifference(direct, proxied), 'seek-faststart dropped: framemd5 differs').toBeUndefined();
    expect(upstream.some((r) => r.fault === 'dropped')).toBe(true);
  });

  test('a Referer is required: ffmpeg without it gets 403 directly; through the proxy (resolver headers) every request carries it', async () => {
    const entry = episodes.referer;
    const bare = await runTool('ffmpeg', ['-nostdin', '-hide_banner', '-v', 'error', '-i', stack.cdn.issue(entry.path, entry.faults), '-f', 'null', '-']);
    const direct = await framemd5(stack.cdn.issue(entry.path, entry.faults), { input: ['-headers', `Referer: ${REFERER}\r\n`] });
    const proxied = await framemd5(stack.entryUrl(entry));
    const upstream = cdnRequestsOf(stack, entry);
    console.log(
      `faults referer: ffmpeg directly without a Referer → exit ${bare.code}: ${bare.stderr.trim().split('\n')[0]}; ` +
        `with it ${direct.frames.length} frames; through the proxy ${proxied.frames.length} frames over ${upstream.length} CDN requests, referers ${[...new Set(upstream.map((r) => r.referer))].join(', ')}`,
    );
    expect(bare.code).not.toBe(0);
    expect(bare.stderr).toContain('403 Forbidden');
    expect(firstFrameDifference(direct, proxied), 'hls-ts with Referer: framemd5 differs').toBeUndefined();
    expect(upstream.map((r) => `${r.referer} ${r.status < 300 ? 'ok' : r.status}`)).toEqual(upstream.map(() => `${REFERER} ok`));
  });

  test('redirects to another host name (127.0.0.1 → localhost): followed for the playlist and every URI below it, same framemd5', async () => {
    const entry = episodes.redirectHls;
    const direct = await framemd5(stack.cdn.issue(entry.path, entry.faults));
    const proxied = await framemd5(stack.entryUrl(entry));
    const upstream = cdnRequestsOf(stack, entry);
    console.log(`faults redirect: ${proxied.frames.length} frames proxied, ${direct.frames.length} direct; CDN: ${upstream.map((r) => `${r.host} ${r.resource.split('/').pop()} ${r.status}`).join('; ')}`);
    expect(firstFrameDifference(direct, proxied), 'hls-fmp4 redirected: framemd5 differs').toBeUndefined();
    expect(upstream[0]).toMatchObject({ status: 302, fault: 'redirect' });
    // Relative URIs resolve against the URL the playlist finally came from: no more redirects.
    expect(upstream.slice(1).map((r) => `${r.host?.split(':')[0]} ${r.status < 300 ? 'ok' : r.status}`)).toEqual(upstream.slice(1).map(() => 'localhost ok'));
  });

  test('a redirected MP4: the bytes of the file, no Location passed to the client', async () => {
    const entry = episodes.redirectMp4;
    const response = await fetchBody(stack.entryUrl(entry));
    const direct = await fetchBody(stack.cdn.issue(entry.path));
    console.log(`faults redirect mp4: ${response.status}, ${response.body.length} B, location header ${String(response.headers.location)}`);
    expect(response.status).toBe(200);
    expect(sha256(response.body)).toBe(sha256(direct.body));
    expect(response.headers.location).toBeUndefined();
  });

  test('an origin that ignores Range: ffmpeg -ss 2 into a 2 MB MP4 gets 206s sliced by the proxy, the same frames as a Range-capable origin', async () => {
    const entry = episodes.ignoresRangeMp4;
    const from = stack.logs.length;
    const options = { input: ['-ss', '2'], output: ['-frames:v', '5'], map: [] };
    const direct = await framemd5(stack.cdn.issue(entry.path), options);
    const proxied = await framemd5(stack.entryUrl(entry), options);
    const upstream = cdnRequestsOf(stack, entry);
    const served = await stack.requestLinesLogged(upstream.length, from);
    console.log(
      `faults ignore-range: ${proxied.frames.length} frames proxied, ${direct.frames.length} direct; CDN: ${upstream.map((r) => `${r.range}→${r.status}${r.fault ? `(${r.fault})` : ''}`).join(' ')}; ` +
        `proxy served ${served.map((line) => `${line.status} (upstream ${line.upstreamStatus})`).join(', ')}`,
    );
    expect(firstFrameDifference(direct, proxied), 'seek-moov-end ignoring Range: framemd5 differs').toBeUndefined();
    expect(upstream.some((r) => /^bytes=[1-9]/.test(r.range ?? '') && r.status === 200 && r.fault === 'range-ignored')).toBe(true);
    expect(served.length).toBeGreaterThan(0);
    expect(served.map((line) => `${line.status}/${line.upstreamStatus}`)).toEqual(served.map(() => '206/200'));
  });

  test.each([
    ['bytes=5000000-5000999', 5_000_000, 5_001_000],
    ['bytes=-4096', BIG - 4096, BIG],
    ['bytes=8388000-', 8_388_000, BIG],
  ])('an origin that ignores Range: Range: %s through the proxy is a 206 with exactly those bytes', async (range, start, end) => {
    const response = await fetchBody(stack.entryUrl(episodes.ignoresRangeBig), { range });
    console.log(`faults ignore-range ${range}: ${response.status} ${String(response.headers['content-range'])}, ${response.body.length} B`);
    expect(response.status).toBe(206);
    expect(response.headers['content-range']).toBe(`bytes ${start}-${end - 1}/${BIG}`);
    expect(response.body.equals(bigFileBytes(start, end)), firstDifferenceFromBig(response.body, start)).toBe(true);
  });

  test('a burst of two 503s: the same URL asked again, ffmpeg plays the MP4, no re-resolution', async () => {
    const entry = episodes.burstOf2;
    const direct = await framemd5(stack.cdn.issue(entry.path));
    const proxied = await framemd5(stack.entryUrl(entry));
    const upstream = cdnRequestsOf(stack, entry);
    console.log(`faults 5xx burst (mp4): CDN ${statuses(upstream)} at ${upstream.map((r) => r.time - upstream[0]!.time).join(', ')} ms; resolver ${JSON.stringify(stack.resolver.hits(entry))}`);
    expect(firstFrameDifference(direct, proxied), 'mp4-faststart after 503s: framemd5 differs').toBeUndefined();
    expect(upstream.slice(0, 3).map((r) => r.status)).toEqual([503, 503, 206]);
    expect(new Set(upstream.map((r) => r.token)).size).toBe(1);
    expect(stack.resolver.hits(entry)).toEqual({ total: 1, plain: 1, refresh: 0 });
  });

  test('a burst of two 502s on an HLS playlist: ridden out, same framemd5', async () => {
    const entry = episodes.burstOf2Hls;
    const direct = await framemd5(stack.cdn.issue(entry.path));
    const proxied = await framemd5(stack.entryUrl(entry));
    const upstream = cdnRequestsOf(stack, entry);
    console.log(`faults 5xx burst (hls): CDN ${statuses(upstream)}`);
    expect(firstFrameDifference(direct, proxied), 'hls-byterange after 502s: framemd5 differs').toBeUndefined();
    expect(upstream.slice(0, 3).map((r) => (r.status < 300 ? 'ok' : r.status))).toEqual([502, 502, 'ok']);
  });

  test('a burst of three 503s outlasts the two retries: the client gets 503, the CDN was asked three times, the resolver once', async () => {
    const entry = episodes.burstOf3;
    const response = await fetchBody(stack.entryUrl(entry));
    const upstream = cdnRequestsOf(stack, entry);
    console.log(`faults 5xx burst of 3: client ${response.status}; CDN ${statuses(upstream)}; resolver ${JSON.stringify(stack.resolver.hits(entry))}`);
    expect(response.status).toBe(503);
    expect(upstream.map((r) => r.status)).toEqual([503, 503, 503]);
    expect(stack.resolver.hits(entry)).toEqual({ total: 1, plain: 1, refresh: 0 });
  });
});

describe('the resolver fails: 502 with a JSON error, nothing fetched from the CDN', () => {
  test.each([
    ['answers 503', episodes.resolver503, () => stack.resolver.setBehavior({ kind: 'status', status: 503 })],
    ['answers invalid JSON', episodes.resolverJunk, () => stack.resolver.setBehavior({ kind: 'invalid-json' })],
    ['is down (connection refused)', episodes.resolverGone, () => stack.resolver.close()],
  ] as const)('the resolver %s', async (what, entry, breakResolver) => {
    await breakResolver();
    const url = stack.entryUrl(entry);
    const response = await fetchBody(url);
    const probe = await runTool('ffprobe', ['-v', 'error', url]);
    stack.resolver.setBehavior({ kind: 'normal' });
    const text = response.body.toString('utf8');
    console.log(`faults resolver ${what}: ${response.status} ${String(response.headers['content-type'])} ${text}; ffprobe ${redact(url)} → exit ${probe.code}: ${redact(probe.stderr.trim())}`);
    expect(response.status).toBe(502);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    expect(JSON.parse(text)).toMatchObject({ error: { code: 'STRM_RESOLVER_FAILED', message: expect.any(String) } });
    expect(cdnRequestsOf(stack, entry)).toEqual([]);
    expect(probe.code).not.toBe(0);
    expect(probe.stderr).toMatch(/502 Bad Gateway|Server returned 5XX/);
  });
});

/** Where a body read from the big files first differs from the expected bytes, for a failure message. */
function firstDifferenceFromBig(body: Buffer, start = 0): string {
  const expected = bigFileBytes(start, start + body.length);
  for (let i = 0; i < body.length; i += 1) {
    if (body[i] !== expected[i]) return `first differing byte at offset ${start + i}: received ${body[i]}, expected ${expected[i]}`;
  }
  return `no differing byte in the ${body.length} bytes received (from offset ${start})`;
}
