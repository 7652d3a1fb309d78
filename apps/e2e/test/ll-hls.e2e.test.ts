import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { hlsPlayerFiles } from '../src/browser';
import { startBrowserStack, type BrowserStack } from './support/browser-stack';
import { describeRequest, originOf } from './support/hls-page';
import { latencies, liveUrisStable, playLive, SHORT_TOKEN_LIFETIME } from './support/live-page';
import { liveMedia } from './support/media';
import { cdnRequestsOf, episode } from './support/stack';
import { startTamperingFront } from './support/tamper';

// hls.js in low-latency mode (lowLatencyMode: blocking playlist reloads with _HLS_msn/_HLS_part,
// delta updates with _HLS_skip, parts loaded as byte ranges of the segment being written) plays the
// fake CDN's LL-HLS origin (apps/e2e/src/live-origin.ts) through the proxy and directly at the same
// time, in two pages: the latency through the proxy must be within half a second of the direct
// one, both as hls.js estimates it (`hls.latency`) and as it really is (the wall clock minus the
// program date-time of the picture on screen).
//
// hls.js requires a segment to keep its URI from one reload of a live playlist to the next (it
// stops with "media sequence mismatch" otherwise). The proxy's links are deterministic within an
// expiry bucket, and a reloaded playlist keeps the seal time of the links it listed
// (apps/proxy/src/seal-times.ts): with a token lifetime of 60 s (buckets of 2 s), every playback
// here crosses several buckets.

const catalog = [episode('low-latency', 1, 'll/master.m3u8')];
/** Seconds of stream each playback lasts, and the first seconds left out of the figures (hls.js settling on its target). */
const SECONDS = 12;
const SETTLED_AFTER = 4;
const TOLERANCE_S = 0.5;

let browserStack: BrowserStack;

beforeAll(async () => {
  browserStack = await startBrowserStack(catalog, hlsPlayerFiles, { live: { media: await liveMedia() }, env: SHORT_TOKEN_LIFETIME });
}, 60_000);

afterAll(async () => {
  await browserStack?.close();
});

describe('LL-HLS in hls.js (low-latency mode) through the proxy', () => {
  test('plays with blocking reloads, delta updates and parts, its latency within 0.5 s of the direct one', async () => {
    const { stack, pages, browser, corsCdn } = browserStack;
    expect(await liveUrisStable(stack.entryUrl(catalog[0]!)), 'a reload repeats the URIs of the segments it still lists').toBe(true);
    const [direct, proxied] = await Promise.all([
      playLive(browser, pages, corsCdn.via(stack.cdn.issue('ll/master.m3u8')), { seconds: SECONDS, lowLatency: true }),
      playLive(browser, pages, stack.entryUrl(catalog[0]!), { seconds: SECONDS, lowLatency: true }),
    ]);
    const figures = { direct: latencies(direct.result, SETTLED_AFTER), proxied: latencies(proxied.result, SETTLED_AFTER) };
    const upstream = cdnRequestsOf(stack, catalog[0]!);
    const playlistQueries = upstream.filter((request) => request.resource === 'll/index.m3u8').map((request) => request.query);
    console.log(
      `hls.js ${proxied.result.hlsVersion} LL-HLS: latency (hls.latency) direct ${figures.direct.latency?.toFixed(3)} s, through the proxy ${figures.proxied.latency?.toFixed(3)} s; ` +
        `real direct ${figures.direct.real?.toFixed(3)} s, through the proxy ${figures.proxied.real?.toFixed(3)} s (${figures.proxied.samples} samples); ` +
        `parts buffered direct ${direct.result.parts.length}, proxied ${proxied.result.parts.length}; stalls direct ${direct.result.waiting}, proxied ${proxied.result.waiting}; ` +
        `playlist requests at the origin: ${playlistQueries.length}, blocking ${playlistQueries.filter((query) => query.includes('_HLS_msn')).length}, delta ${playlistQueries.filter((query) => query.includes('_HLS_skip')).length}`,
    );
    // The Delivery Directives reached the origin through the proxy.
    expect(playlistQueries.filter((query) => /_HLS_msn=\d+&_HLS_part=\d+/.test(query)).length, 'blocking reloads at the origin').toBeGreaterThan(0);
    expect(direct.result.outcome, `${direct.result.fatal}\n${direct.console.join('\n')}`).toBe('played');
    expect(direct.result.parts.length, 'hls.js buffered parts: it played in low-latency mode').toBeGreaterThan(0);
    expect(proxied.result.outcome, `${proxied.result.fatal}\n${proxied.console.join('\n')}`).toBe('played');
    expect(proxied.result.parts.length, 'hls.js buffered parts through the proxy').toBeGreaterThan(0);
    expect(Math.abs(figures.proxied.latency! - figures.direct.latency!), 'hls.latency through the proxy vs direct (s)').toBeLessThanOrEqual(TOLERANCE_S);
    expect(Math.abs(figures.proxied.real! - figures.direct.real!), 'real latency through the proxy vs direct (s)').toBeLessThanOrEqual(TOLERANCE_S);
    // Blocking reloads and delta updates all along, and hls.js merged the delta updates.
    expect(playlistQueries.filter((query) => /_HLS_msn=\d+&_HLS_part=\d+/.test(query)).length, 'blocking reloads at the origin').toBeGreaterThan(5);
    expect(playlistQueries.some((query) => query.includes('_HLS_skip=YES')), 'delta update requests at the origin').toBe(true);
    expect(proxied.result.playlists.some((playlist) => playlist.skipped > 0), 'hls.js merged a delta update it got through the proxy').toBe(true);
    // Every request of the player went to the proxy and succeeded.
    const proxyOrigin = originOf(stack.proxy.url);
    expect(proxied.requests.filter((request) => originOf(request.url) !== proxyOrigin && originOf(request.url) !== pages.origin).map(describeRequest)).toEqual([]);
    // hls.js cancels a blocking reload it no longer needs (net::ERR_ABORTED), and the requests are
    // read as the page reports its result: a blocking reload the origin still holds then has no
    // answer yet, nor the failure its abort brings a moment later. Every other request succeeded.
    const toProxy = proxied.requests.filter((request) => originOf(request.url) === proxyOrigin && request.failure !== 'net::ERR_ABORTED');
    const unanswered = toProxy.filter((request) => request.status === undefined && request.failure === undefined);
    expect(unanswered.length, `requests still waiting at the end: ${unanswered.map(describeRequest).join(', ')}`).toBeLessThanOrEqual(1);
    const answered = toProxy.filter((request) => !unanswered.includes(request));
    expect(answered.filter((request) => request.status !== 200 && request.status !== 206).map(describeRequest)).toEqual([]);
    expect(proxied.result.errors.filter((error) => error.fatal)).toEqual([]);
  });

  test('a hop that delays each request by 1 s shows in the real latency (the comparison can fail)', async () => {
    const { stack, pages, browser } = browserStack;
    const slow = await startTamperingFront(stack.proxy.url, { delayMs: (path) => (path.startsWith('/strm/') ? 1000 : 0) });
    try {
      const [direct, delayed] = await Promise.all([
        playLive(browser, pages, stack.entryUrl(catalog[0]!), { seconds: SECONDS, lowLatency: true }),
        playLive(browser, pages, slow.via(stack.entryUrl(catalog[0]!)), { seconds: SECONDS, lowLatency: true }),
      ]);
      const figures = { proxied: latencies(direct.result, SETTLED_AFTER), delayed: latencies(delayed.result, SETTLED_AFTER) };
      console.log(
        `LL-HLS behind a hop delaying each request 1 s: real latency ${figures.delayed.real?.toFixed(3)} s vs ${figures.proxied.real?.toFixed(3)} s without it; ` +
          `hls.latency ${figures.delayed.latency?.toFixed(3)} s vs ${figures.proxied.latency?.toFixed(3)} s`,
      );
      expect(slow.requests.length, 'the page went through the slow hop').toBeGreaterThan(0);
      expect(figures.delayed.real! - figures.proxied.real!).toBeGreaterThan(TOLERANCE_S);
    } finally {
      await slow.close();
    }
  });
});
