import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { hlsPlayerFiles, runPlayerPage, type OpenBrowser, type PageServer } from '../src/browser';
import { fixtureMediaDir } from '../src/fixtures';
import { startBrowserStack, type BrowserStack } from './support/browser-stack';
import { cdnRequestsOf, episode, type Stack } from './support/stack';
import { DECODED_SLACK, decodedDifference, describeRequest, originOf, playbackSummary, playOnPage as playHls, sequenceNumbers, type HlsPlayerResult } from './support/hls-page';
import { startTamperingFront, type TamperingFront } from './support/tamper';
import { redact } from './support/tools';

// hls.js 1.x in Debian's Chromium, as Jellyfin's web client plays HLS: a page on another origin
// than the proxy (another port), so every playlist, key and segment is a cross-origin XHR that
// needs the proxy's CORS headers. Debian's Chromium decodes H.264 and AAC through Media Source
// Extensions (MediaSource.isTypeSupported('video/mp4; codecs="avc1.4d401e,mp4a.40.2"') is true),
// the codecs of the fixtures; hls.js turns MPEG-TS into fMP4 for it. Each case also plays from the
// fake CDN directly (through a hop that adds the CORS headers the CDN lacks): the player must load,
// buffer and decode the same through the proxy.

/** Number of segments (`#EXTINF`) of a media playlist of the fixtures. */
function segmentCount(path: string): number {
  return readFileSync(join(fixtureMediaDir, path), 'utf8').split('\n').filter((line) => line.startsWith('#EXTINF')).length;
}

interface BrowserCase {
  readonly label: string;
  readonly path: string;
  /** Query of pages/hls.html besides `src`. */
  readonly query: Record<string, string>;
  /** Segments hls.js must load and buffer, per fragment type. */
  readonly expected: { main: number; audio?: number; subtitle?: number };
  readonly keys: boolean;
  readonly ranges: boolean;
}

// hls.js orders variants by bandwidth: level 0 is 160x90, level 1 is 320x180.
const cases: readonly BrowserCase[] = [
  {
    label: 'hls-ts level 0 (160x90) + audio rendition + subtitles, AES-128',
    path: 'hls-ts/master.m3u8',
    query: { level: '0', subtitles: '0', seek: '2.5' },
    expected: { main: segmentCount('hls-ts/video/90p/index.m3u8'), audio: segmentCount('hls-ts/audio/en/index.m3u8'), subtitle: segmentCount('hls-ts/subs/en/index.m3u8') },
    keys: true,
    ranges: false,
  },
  {
    label: 'hls-ts level 1 (320x180) + audio rendition + subtitles, AES-128',
    path: 'hls-ts/master.m3u8',
    query: { level: '1', subtitles: '0', seek: '2.5' },
    expected: { main: segmentCount('hls-ts/video/180p/index.m3u8'), audio: segmentCount('hls-ts/audio/en/index.m3u8'), subtitle: segmentCount('hls-ts/subs/en/index.m3u8') },
    keys: true,
    ranges: false,
  },
  { label: 'hls-fmp4 (EXT-X-MAP)', path: 'hls-fmp4/master.m3u8', query: { seek: '2.5' }, expected: { main: segmentCount('hls-fmp4/stream/index.m3u8') }, keys: false, ranges: false },
  { label: 'hls-byterange (EXT-X-BYTERANGE)', path: 'hls-byterange/index.m3u8', query: { seek: '2.5' }, expected: { main: segmentCount('hls-byterange/index.m3u8') }, keys: false, ranges: true },
];
const catalog = cases.map((browserCase, index) => episode('hlsjs', index + 1, browserCase.path));

let stack: Stack;
let browser: OpenBrowser;
let pages: PageServer;
let corsCdn: TamperingFront;
let started: BrowserStack | undefined;
beforeAll(async () => {
  started = await startBrowserStack(catalog, hlsPlayerFiles);
  ({ stack, pages, browser, corsCdn } = started);
  // Starting Chromium can outlast the default 10 s hook timeout on a loaded runner.
}, 60_000);
afterAll(async () => {
  await started?.close();
});

const range = (count: number) => Array.from({ length: count }, (_value, index) => index);

const playOnPage = (src: string, query: Readonly<Record<string, string>>) => playHls(browser, pages, src, query);

describe(`hls.js in Chromium plays every HLS fixture through the proxy from a page of another origin`, () => {
  test('Debian\'s Chromium decodes the fixtures\' codecs (H.264 Main, AAC-LC) through Media Source Extensions', async () => {
    const logged = await browser.newPage();
    try {
      await logged.page.goto(pages.url('/hls.html'));
      const types = ['video/mp4; codecs="avc1.4d401e,mp4a.40.2"', 'video/mp4; codecs="avc1.4d401e"', 'audio/mp4; codecs="mp4a.40.2"'];
      const supported = await logged.page.evaluate(
        (list) => list.map((type) => (globalThis as unknown as { MediaSource: { isTypeSupported(type: string): boolean } }).MediaSource.isTypeSupported(type)),
        types,
      );
      console.log(`Chromium ${browser.version} MSE: ${types.map((type, index) => `${type} ${supported[index]}`).join('; ')}`);
      expect(supported, 'a Chromium without H.264/AAC cannot play the fixtures').toEqual(types.map(() => true));
    } finally {
      await logged.close();
    }
  });

  test.each(cases.map((browserCase, index) => [browserCase.label, browserCase, catalog[index]!] as const))('hls.js plays %s', async (label, browserCase, entry) => {
    const entryUrl = stack.entryUrl(entry);
    const cdnFrom = stack.cdn.requests.length;
    const direct = await playOnPage(corsCdn.via(stack.cdn.issue(browserCase.path)), browserCase.query);
    const { result, requests } = await playOnPage(entryUrl, browserCase.query);
    const proxyRequests = requests.filter((request) => originOf(request.url) === stack.proxy.url);
    const elsewhere = requests.filter((request) => originOf(request.url) !== stack.proxy.url && originOf(request.url) !== pages.origin);
    const upstream = cdnRequestsOf(stack, entry).filter((request) => stack.cdn.requests.indexOf(request) >= cdnFrom);
    const loadedByType = Object.fromEntries(['main', 'audio', 'subtitle'].map((type) => [type, sequenceNumbers(result.loaded, type).length]));
    const nonFatal = (report: HlsPlayerResult) => report.errors.map((error) => `${error.type}/${error.details}`).join(', ') || 'none';
    console.log(
      `hls.js ${result.hlsVersion} in Chromium ${browser.version}, ${label}: ${result.outcome} at ${result.maxCurrentTime.toFixed(2)} s, ` +
        `fragments loaded ${JSON.stringify(loadedByType)}, ${result.buffered.length} buffered, ${result.keys.length} key loads, ${result.cues} cues, ` +
        `${result.quality.total} video frames (${result.quality.dropped} dropped); ${proxyRequests.length} requests from ${pages.origin} to the proxy ` +
        `(${proxyRequests.filter((request) => request.status === 206).length} answered 206), ${upstream.length} CDN requests by the proxy; ` +
        `non-fatal errors: ${nonFatal(result)} (from the CDN directly: ${nonFatal(direct.result)}); ` +
        `last picture ${result.pictures.last} (directly ${direct.result.pictures.last}), after the seek back ${result.pictures.seek} (directly ${direct.result.pictures.seek})`,
    );

    expect(pages.origin).not.toBe(stack.proxy.url);
    expect(result.fatal, `fatal hls.js error; requests:\n${requests.map(describeRequest).join('\n')}`).toBeUndefined();
    expect(result.mediaError).toBeUndefined();
    expect(result.outcome).toBe('ended');
    expect(result.maxCurrentTime, 'played to the end of the 4-second fixture').toBeGreaterThan(3.5);
    expect(result.quality.total, 'pictures Chromium decoded').toBeGreaterThanOrEqual(90);
    for (const [type, count] of Object.entries(browserCase.expected)) {
      expect(sequenceNumbers(result.loaded, type), `${type} fragments loaded`).toEqual(range(count));
      if (type !== 'subtitle') expect(sequenceNumbers(result.buffered, type), `${type} fragments appended to the media buffer`).toEqual(range(count));
    }
    if (browserCase.query.level !== undefined) {
      const level = Number(browserCase.query.level);
      expect(result.levels[level]?.height, 'the locked variant').toBe(level === 0 ? 90 : 180);
      expect(result.loaded.filter((fragment) => fragment.type === 'main').every((fragment) => fragment.level === level), 'only the locked variant').toBe(true);
    }
    if (browserCase.expected.subtitle) expect(result.cues, 'subtitle cues on the text track').toBeGreaterThan(0);
    if (browserCase.keys) expect(result.keys.length).toBeGreaterThan(0);
    if (browserCase.ranges) expect(result.loaded.every((fragment) => fragment.byteRange !== undefined)).toBe(true);
    expect(result.pictures.seek, 'the seek back landed and showed a picture').toMatch(/^2\.5\d* s \d+x\d+ [0-9a-f]{8}$/);
    // The same playback as from the CDN directly.
    expect(playbackSummary(result)).toEqual(playbackSummary(direct.result));
    expect(decodedDifference(result, direct.result), 'decoded pictures, through the proxy vs direct').toBeLessThanOrEqual(DECODED_SLACK);
    // Every request of the player went to the proxy and succeeded; none went anywhere else.
    expect(elsewhere.map(describeRequest)).toEqual([]);
    expect(proxyRequests.filter((request) => request.status !== 200 && request.status !== 206).map(describeRequest)).toEqual([]);
    expect(proxyRequests.length).toBeGreaterThanOrEqual(1 + browserCase.expected.main);
    expect(upstream.filter((request) => request.status >= 400).map((request) => `${request.status} ${request.resource}`)).toEqual([]);
  });

  test('hls.js shows other pictures when a front corrupts a segment (the picture comparison can fail)', async () => {
    // hls-ts at 320x180: seg2.ts of the video and of the audio rendition get 4 000 bytes inverted.
    const tsCase = cases.findIndex((browserCase) => browserCase.query.level === '1');
    const front = await startTamperingFront(stack.proxy.url, { corrupt: (path) => path.endsWith('/seg2.ts') });
    try {
      const direct = await playOnPage(corsCdn.via(stack.cdn.issue(cases[tsCase]!.path)), cases[tsCase]!.query);
      const tampered = await playOnPage(front.via(stack.entryUrl(catalog[tsCase]!)), cases[tsCase]!.query);
      console.log(
        `hls.js through a front corrupting seg2.ts: ${tampered.result.outcome}, after the seek back ${tampered.result.pictures.seek} (directly ${direct.result.pictures.seek}), ` +
          `errors: ${tampered.result.errors.map((error) => error.details).join(', ') || 'none'}`,
      );
      expect(front.requests.filter((request) => request.corrupted).length, 'the front corrupted seg2.ts').toBeGreaterThan(0);
      expect(playbackSummary(tampered.result)).not.toEqual(playbackSummary(direct.result));
    } finally {
      await front.close();
    }
  });

  test('hls.js fails visibly when a front drops the proxy\'s CORS headers (the suite can fail)', async () => {
    const front = await startTamperingFront(stack.proxy.url, { dropCors: true });
    const logged = await browser.newPage();
    try {
      // Awaited after the page finished: the browser may report the failed request after hls.js saw it.
      const refused = logged.context.waitForEvent('requestfailed', { timeout: 30_000 });
      const result = await runPlayerPage<HlsPlayerResult>(logged, pages.url('/hls.html', { src: front.via(stack.entryUrl(catalog[2]!)) }));
      const failed = await refused;
      console.log(`hls.js behind a front without CORS headers: ${result.outcome} (${result.fatal}); the browser refused ${redact(failed.url()).slice(0, 80)}: ${failed.failure()?.errorText}`);
      expect(front.requests.length, 'the page reached the front').toBeGreaterThan(0);
      expect(result.outcome).toBe('fatal');
      expect(result.fatal).toMatch(/networkError/);
      expect(result.maxCurrentTime).toBe(0);
      expect(failed.url()).toContain('/strm/stream');
      expect(failed.failure()?.errorText).toBe('net::ERR_FAILED');
    } finally {
      await logged.close();
      await front.close();
    }
  });
});
