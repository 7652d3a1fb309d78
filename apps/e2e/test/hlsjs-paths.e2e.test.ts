import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { hlsPlayerFiles, openBrowser, servePlayerPage, type OpenBrowser, type PageServer } from '../src/browser';
import { startStaticStreamRelay, type StaticStreamRelay } from '../src/media-server-relay';
import { readmeNginxSnippet, startNginxFront, type NginxFront } from './support/nginx';
import { episode, startStack, type Stack } from './support/stack';
import { DECODED_SLACK, decodedDifference, describeRequest, originOf, playbackSummary, playOnPage as playHls } from './support/hls-page';
import { startTamperingFront, type TamperingFront } from './support/tamper';

// hls.js 1.x in Debian's Chromium (the player of Jellyfin's web client) on the two paths where a
// playlist does not come straight from the proxy: relayed by a Jellyfin-like static stream, and
// behind nginx under /anime/ with the README's snippet. It must play each HLS fixture as it plays
// it from the CDN directly, and send every request where it belongs (nothing to the relay but the
// entry; nothing past nginx to the proxy's own address).

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

const playOnPage = (src: string, query: Readonly<Record<string, string>>) => playHls(browser, pages, src, query);

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
    expect(decodedDifference(relayed.result, direct.result), 'decoded pictures, relayed vs direct').toBeLessThanOrEqual(DECODED_SLACK);
    expect(toRelay.map((request) => new URL(request.url).pathname)).toEqual([new URL(relayUrl).pathname]);
    expect(relayElsewhere.map(describeRequest)).toEqual([]);
    expect(relayed.requests.filter((request) => request.status !== undefined && request.status >= 400).map(describeRequest)).toEqual([]);

    expect(fronted.result.fatal, `behind nginx: ${fronted.requests.map(describeRequest).join('\n')}`).toBeUndefined();
    expect(playbackSummary(fronted.result)).toEqual(playbackSummary(direct.result));
    expect(decodedDifference(fronted.result, direct.result), 'decoded pictures, behind nginx vs direct').toBeLessThanOrEqual(DECODED_SLACK);
    expect(frontElsewhere.map(describeRequest)).toEqual([]);
    expect(toFront.every((request) => new URL(request.url).pathname.startsWith('/anime/strm/'))).toBe(true);
    expect(fronted.requests.filter((request) => request.status !== undefined && request.status >= 400).map(describeRequest)).toEqual([]);
  });
});
