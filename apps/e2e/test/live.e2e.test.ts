import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { hlsPlayerFiles } from '../src/browser';
import { startBrowserStack, type BrowserStack } from './support/browser-stack';
import { describeRequest, originOf } from './support/hls-page';
import { gaps, playLive, servedSegments, SHORT_TOKEN_LIFETIME } from './support/live-page';
import { liveMedia } from './support/media';
import { cdnRequestsOf, episode } from './support/stack';
import { startTamperingFront } from './support/tamper';
import { redact, runTool } from './support/tools';

// A sliding-window live stream (the fake CDN's `live/` origin: 1-second segments, a window of six,
// EXT-X-MEDIA-SEQUENCE advancing with the clock) played through the proxy for 60 seconds by ffmpeg
// and by hls.js in Chromium at the same time, each as its own episode (its own CDN token), so the
// CDN's log tells whose segments are whose. No segment may be missed: the segments the CDN served
// for each player are consecutive, the player's own count covers 60 seconds, and ffmpeg reports
// no segment skipped or expired.
//
// The proxy's token lifetime is 60 s (expiry buckets of 2 s): hls.js, which requires a segment to
// keep its URI across reloads, plays through dozens of buckets and several lifetimes.

const SECONDS = Number(process.env.LIVE_SECONDS ?? 60);
const SEGMENT_SECONDS = 1;
const catalog = [episode('live', 1, 'live/index.m3u8'), episode('live', 2, 'live/index.m3u8'), episode('live', 3, 'live/index.m3u8')];

let browserStack: BrowserStack;

beforeAll(async () => {
  browserStack = await startBrowserStack(catalog, hlsPlayerFiles, { live: { media: await liveMedia(), window: 6 }, env: SHORT_TOKEN_LIFETIME });
}, 60_000);

afterAll(async () => {
  await browserStack?.close();
});

/** ffmpeg copies `seconds` of the live stream at `url` into packet hashes: what a media server's remux does. */
async function ffmpegLive(url: string, seconds: number) {
  const run = await runTool('ffmpeg', ['-nostdin', '-hide_banner', '-v', 'warning', '-i', url, '-map', '0', '-c', 'copy', '-t', String(seconds), '-f', 'framemd5', '-'], (seconds + 30) * 1000);
  const packets = run.stdout.toString('utf8').split('\n').filter((line) => line !== '' && !line.startsWith('#'));
  return { run, packets };
}

describe('a sliding-window live stream through the proxy', () => {
  test(`ffmpeg and hls.js play ${SECONDS} s of it with no segment missed`, async () => {
    const { stack, pages, browser } = browserStack;
    const [ffmpeg, hlsjs] = await Promise.all([
      ffmpegLive(stack.entryUrl(catalog[0]!), SECONDS),
      playLive(browser, pages, stack.entryUrl(catalog[1]!), { seconds: SECONDS, lowLatency: false }),
    ]);
    const ffmpegSegments = servedSegments(cdnRequestsOf(stack, catalog[0]!));
    const hlsjsSegments = servedSegments(cdnRequestsOf(stack, catalog[1]!));
    const loaded = [...new Set(hlsjs.result.loaded.flatMap((fragment) => (typeof fragment.sn === 'number' ? [fragment.sn] : [])))].sort((a, b) => a - b);
    console.log(
      `live through the proxy: ffmpeg ${ffmpeg.packets.length} packets in ${ffmpeg.run.ms} ms, segments ${ffmpegSegments[0]}..${ffmpegSegments.at(-1)} (${ffmpegSegments.length}); ` +
        `hls.js ${hlsjs.result.hlsVersion} played ${hlsjs.result.played.toFixed(1)} s, segments ${loaded[0]}..${loaded.at(-1)} (${loaded.length}), stalls ${hlsjs.result.waiting}, ` +
        `errors ${hlsjs.result.errors.map((error) => `${error.details} (${error.reason})`).join(', ') || 'none'}`,
    );

    expect(ffmpeg.run.code, redact(ffmpeg.run.stderr.slice(-2000))).toBe(0);
    expect(ffmpeg.run.stderr, 'ffmpeg skipped no segment').not.toMatch(/skipping|expired|Failed to open segment/i);
    // 24 pictures a second, one packet each.
    expect(ffmpeg.packets.length).toBeGreaterThanOrEqual(SECONDS * 24 - 24);
    expect(gaps(ffmpegSegments), 'segments the CDN did not serve to ffmpeg').toEqual([]);
    expect(ffmpegSegments.length).toBeGreaterThanOrEqual(SECONDS / SEGMENT_SECONDS);

    expect(hlsjs.result.outcome, `${hlsjs.result.fatal}\n${hlsjs.console.join('\n')}`).toBe('played');
    expect(hlsjs.result.played).toBeGreaterThanOrEqual(SECONDS);
    expect(gaps(loaded), 'segments hls.js did not load').toEqual([]);
    expect(loaded.length).toBeGreaterThanOrEqual(SECONDS / SEGMENT_SECONDS);
    expect(gaps(hlsjsSegments), 'segments the CDN did not serve to hls.js').toEqual([]);
    const proxyOrigin = originOf(stack.proxy.url);
    expect(hlsjs.requests.filter((request) => originOf(request.url) === proxyOrigin && request.status !== 200 && request.status !== 206).map(describeRequest)).toEqual([]);
  }, (SECONDS + 60) * 1000);

  test('a front that refuses one segment shows as a skip in ffmpeg and a gap at the CDN (the checks can fail)', async () => {
    const { stack } = browserStack;
    let segments = 0;
    // The fifth segment ffmpeg asks for is refused: ffmpeg goes on with the next one.
    const front = await startTamperingFront(stack.proxy.url, { refuse: (path) => /\/seg\d+\.m4s$/.test(path) && ++segments === 5 });
    try {
      const ffmpeg = await ffmpegLive(front.via(stack.entryUrl(catalog[2]!)), 10);
      const served = servedSegments(cdnRequestsOf(stack, catalog[2]!));
      console.log(`ffmpeg behind a front refusing its fifth segment: ${ffmpeg.packets.length} packets, CDN segments ${served.join(' ')}, missing ${gaps(served).join(' ')}`);
      expect(ffmpeg.run.stderr).toMatch(/skipping|expired|Failed to open segment/i);
      expect(gaps(served)).toHaveLength(1);
    } finally {
      await front.close();
    }
  });
});
