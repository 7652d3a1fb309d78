import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { dashPlayerFiles, playPlayerPage, type OpenBrowser, type PageServer } from '../src/browser';
import { mediaFixtures } from '../src/fixtures';
import { startBrowserStack, type BrowserStack } from './support/browser-stack';
import { describeRequest } from './support/hls-page';
import { cdnRequestsOf, episode, type Stack } from './support/stack';
import type { TamperingFront } from './support/tamper';

// dash.js in Debian's Chromium, on a page of another origin than the proxy: every MPD, init
// section, segment and byte range is a cross-origin XHR through the rewritten manifest. Each
// fixture also plays from the fake CDN directly (through a hop that adds the CORS headers the CDN
// lacks): dash.js must load the same segments and play to the end both ways.

/** What pages/dash.html reports in `window.strmPlayer.result`. */
interface DashPlayerResult {
  dashVersion: string;
  outcome: 'ended' | 'fatal' | 'media-error' | 'unsupported';
  loaded: Array<{ mediaType: 'video' | 'audio'; type: 'InitializationSegment' | 'MediaSegment' | string; url: string; range?: string; bytes: number }>;
  errors: Array<{ code: number; message: string }>;
  maxCurrentTime: number;
  ended: boolean;
  fatal?: string;
  quality: { total: number; dropped: number };
}

const dashFixtures = mediaFixtures.filter((fixture) => fixture.kind === 'dash');
const catalog = dashFixtures.map((fixture, index) => episode('dashjs', index + 1, fixture.path));

let stack: Stack;
let browser: OpenBrowser;
let pages: PageServer;
let corsCdn: TamperingFront;
let started: BrowserStack | undefined;
beforeAll(async () => {
  started = await startBrowserStack(catalog, dashPlayerFiles);
  ({ stack, pages, browser, corsCdn } = started);
}, 60_000);
afterAll(async () => {
  await started?.close();
});

// 45 s for a 4-second clip: a stalled page, played once more, still fits the test's 120 s with its diagnostics.
const playOnPage = (src: string) => playPlayerPage<DashPlayerResult>(browser, pages.url('/dash.html', { src }), 45_000);

/** The segments dash.js loaded, as file names and ranges: the same from the CDN and through the proxy. */
const segments = (result: DashPlayerResult) =>
  result.loaded.map((fragment) => `${fragment.mediaType} ${fragment.type} ${fragment.url.slice(fragment.url.lastIndexOf('/') + 1)}${fragment.range ? ` ${fragment.range}` : ''} ${fragment.bytes}`).sort();

describe('dash.js in Chromium plays every DASH fixture through the proxy, across origins', () => {
  test.each(dashFixtures.map((fixture, index) => [fixture.name, fixture, catalog[index]!] as const))('dash.js %s', async (name, fixture, entry) => {
    const direct = await playOnPage(stack.cdn.issue(fixture.path).replace(stack.cdn.origin, corsCdn.origin));
    const proxied = await playOnPage(stack.entryUrl(entry));
    const proxyOrigin = new URL(stack.proxy.url).origin;
    const upstream = cdnRequestsOf(stack, entry);
    console.log(
      `dash.js ${proxied.result.dashVersion} ${name}: ${proxied.result.outcome} at ${proxied.result.maxCurrentTime.toFixed(2)} s, ` +
        `${proxied.result.quality.total} frames, ${proxied.result.loaded.length} segments (${direct.result.loaded.length} directly); ` +
        `page ${pages.origin}, requests ${proxied.requests.length}, CDN requests by the proxy ${upstream.length}` +
        (upstream.some((request) => request.range) ? `; ranges ${upstream.filter((request) => request.range).map((request) => request.range).join(' ')}` : ''),
    );
    const failure = `${name}: ${proxied.result.fatal ?? ''}\n${proxied.requests.map(describeRequest).join('\n')}\n${proxied.console.join('\n')}`;
    expect(direct.result.outcome, `${name} directly`).toBe('ended');
    expect(proxied.result.outcome, failure).toBe('ended');
    expect(proxied.result.errors, failure).toEqual([]);
    expect(proxied.result.maxCurrentTime).toBeGreaterThan(fixture.seconds - 0.5);
    expect(segments(proxied.result)).toEqual(segments(direct.result));
    // Every request of the player went to the proxy (the page aside): none to the CDN.
    const players = proxied.requests.filter((request) => !request.url.startsWith(pages.origin));
    expect(players.length).toBeGreaterThan(0);
    expect(players.filter((request) => !request.url.startsWith(proxyOrigin)).map(describeRequest)).toEqual([]);
    expect(players.filter((request) => request.status === undefined || request.status >= 400).map(describeRequest)).toEqual([]);
    if (name === 'dash-segment-base') expect(proxied.result.loaded.every((fragment) => fragment.range !== undefined), 'SegmentBase by byte ranges').toBe(true);
  });
});
