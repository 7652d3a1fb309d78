import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { hlsPlayerFiles, openBrowser, runPlayerPage, servePlayerPage, type BrowserRequest, type OpenBrowser, type PageServer } from '../src/browser';
import { startStaticStreamRelay, type StaticStreamRelay } from '../src/media-server-relay';
import { readmeNginxSnippet, startNginxFront, type NginxFront } from './support/nginx';
import { episode, startStack, type Stack } from './support/stack';
import { startTamperingFront, type TamperingFront } from './support/tamper';
import { redact } from './support/tools';

// hls.js 1.x in Debian's Chromium (the player of Jellyfin's web client) on the two paths where a
// playlist does not come straight from the proxy: relayed by a Jellyfin-like static stream, and
// behind nginx under /anime/ with the README's snippet. It must play each HLS fixture as it plays
// it from the CDN directly, and send every request where it belongs (nothing to the relay but the
// entry; nothing past nginx to the proxy's own address).

/** The fields of pages/hls.html's `window.strmPlayer.result` compared here. */
interface HlsPlayerResult {
  outcome: 'ended' | 'fatal' | 'media-error' | 'unsupported';
  fatal?: string;
  levels: Array<{ height: number }>;
  loaded: Array<{ type: 'main' | 'audio' | 'subtitle'; sn: number | 'initSegment' }>;
  buffered: Array<{ type: string; sn: number | 'initSegment' }>;
  quality: { total: number; dropped: number };
  cues: number;
  pictures: { last?: string; seek?: string };
}

const cases = [
  { label: 'hls-ts level 0 + audio rendition + subtitles, AES-128', path: 'hls-ts/master.m3u8', query: { level: '0', subtitles: '0' } },
  { label: 'hls-fmp4 (EXT-X-MAP)', path: 'hls-fmp4/master.m3u8', query: {} },
  { label: 'hls-byterange (EXT-X-BYTERANGE)', path: 'hls-byterange/index.m3u8', query: {} },
] as const;
const catalog = cases.map((playerCase, index) => episode('hlsjs-paths', index + 1, playerCase.path));

let stack: Stack;
let relay: StaticStreamRelay;
let front: NginxFront;
let corsCdn: TamperingFront;
let browser: OpenBrowser;
let pages: PageServer;
beforeAll(async () => {
  stack = await startStack({ catalog });
  relay = await startStaticStreamRelay();
  front = await startNginxFront(await readmeNginxSnippet(), new URL(stack.proxy.url).host);
  corsCdn = await startTamperingFront(stack.cdn.origin, { addCors: true });
  pages = await servePlayerPage(hlsPlayerFiles);
  browser = await openBrowser();
  // Starting Chromium can outlast the default 10 s hook timeout on a loaded runner.
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await pages?.close();
  await corsCdn?.close();
  await front?.close();
  await relay?.close();
  await stack?.close();
});

const originOf = (url: string) => new URL(url).origin;
const describeRequest = (request: BrowserRequest) => `${request.method} ${redact(request.url).slice(0, 90)} → ${request.status ?? request.failure}`;

function sequenceNumbers(fragments: HlsPlayerResult['loaded'] | HlsPlayerResult['buffered'], type: string): number[] {
  return [...new Set(fragments.filter((fragment) => fragment.type === type && typeof fragment.sn === 'number').map((fragment) => fragment.sn as number))].sort((a, b) => a - b);
}

/** What must be the same as from the CDN directly: how it ended, which fragments, cues and pictures. */
function playbackSummary(result: HlsPlayerResult) {
  return {
    outcome: result.outcome,
    fatal: result.fatal,
    loaded: Object.fromEntries(['main', 'audio', 'subtitle'].map((type) => [type, sequenceNumbers(result.loaded, type)])),
    buffered: Object.fromEntries(['main', 'audio'].map((type) => [type, sequenceNumbers(result.buffered, type)])),
    levels: result.levels.map((level) => level.height),
    cues: result.cues,
    pictures: result.pictures,
  };
}

/**
 * Chromium's count of decoded pictures (`getVideoPlaybackQuality().totalVideoFrames`) of a 4-second
 * fixture moves by one from run to run on a loaded machine, directly too (measured 100/101 and
 * 115/116); the pictures themselves are compared by digest above.
 */
function decodedDifference(a: HlsPlayerResult, b: HlsPlayerResult): number {
  return Math.abs(a.quality.total - b.quality.total);
}

async function playOnPage(src: string, query: Readonly<Record<string, string>>) {
  const logged = await browser.newPage();
  try {
    const result = await runPlayerPage<HlsPlayerResult>(logged, pages.url('/hls.html', { src, ...query }));
    return { result, requests: [...logged.requests] };
  } finally {
    await logged.close();
  }
}

describe('hls.js in Chromium behind a relay and behind nginx plays as from the CDN directly', () => {
  test.each(cases.map((playerCase, index) => [playerCase.label, playerCase, catalog[index]!] as const))('%s', async (label, playerCase, entry) => {
    const direct = await playOnPage(corsCdn.via(stack.cdn.issue(playerCase.path)), playerCase.query);
    expect(direct.result.outcome).toBe('ended');

    // Relayed: the entry from the relay, everything else from the proxy, nothing anywhere else.
    const relayUrl = relay.add(stack.entryUrl(entry));
    const relayed = await playOnPage(relayUrl, playerCase.query);
    const toRelay = relayed.requests.filter((request) => originOf(request.url) === relay.origin);
    const relayElsewhere = relayed.requests.filter((request) => ![relay.origin, stack.proxy.url, pages.origin].includes(originOf(request.url)));

    // Behind nginx: every request to nginx under /anime/, none to the proxy's own address.
    const frontUrl = stack.entryUrl(entry).replace(stack.proxy.url, `${front.origin}/anime`);
    const fronted = await playOnPage(frontUrl, playerCase.query);
    const frontElsewhere = fronted.requests.filter((request) => ![front.origin, pages.origin].includes(originOf(request.url)));
    const toFront = fronted.requests.filter((request) => originOf(request.url) === front.origin);

    console.log(
      `hls.js paths ${label}: direct ${direct.result.outcome} (${direct.result.quality.total} pictures); relayed ${relayed.result.outcome}, ` +
        `${toRelay.length} request(s) to the relay, ${relayed.requests.length - toRelay.length} to the proxy and the page; behind nginx ${fronted.result.outcome}, ` +
        `${toFront.length} requests to nginx, ${frontElsewhere.length} past it`,
    );
    expect(relayed.result.fatal, `relayed: ${relayed.requests.map(describeRequest).join('\n')}`).toBeUndefined();
    expect(playbackSummary(relayed.result)).toEqual(playbackSummary(direct.result));
    expect(decodedDifference(relayed.result, direct.result), 'decoded pictures, relayed vs direct').toBeLessThanOrEqual(2);
    expect(toRelay.map((request) => new URL(request.url).pathname)).toEqual([new URL(relayUrl).pathname]);
    expect(relayElsewhere.map(describeRequest)).toEqual([]);
    expect(relayed.requests.filter((request) => request.status !== undefined && request.status >= 400).map(describeRequest)).toEqual([]);

    expect(fronted.result.fatal, `behind nginx: ${fronted.requests.map(describeRequest).join('\n')}`).toBeUndefined();
    expect(playbackSummary(fronted.result)).toEqual(playbackSummary(direct.result));
    expect(decodedDifference(fronted.result, direct.result), 'decoded pictures, behind nginx vs direct').toBeLessThanOrEqual(2);
    expect(frontElsewhere.map(describeRequest)).toEqual([]);
    expect(toFront.every((request) => new URL(request.url).pathname.startsWith('/anime/strm/'))).toBe(true);
    expect(fronted.requests.filter((request) => request.status !== undefined && request.status >= 400).map(describeRequest)).toEqual([]);
  });
});
