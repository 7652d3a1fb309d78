import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { hlsPlayerFiles } from '../src/browser';
import { startBrowserStack, type BrowserStack } from './support/browser-stack';
import { describeRequest, playOnPage } from './support/hls-page';
import { cdnRequestsOf, episode } from './support/stack';

// Content steering (HLS Content Steering 1.2) played by hls.js in Chromium through the proxy.
// The fixture hls-steering lists pathway A (the fake CDN as 127.0.0.1) and its steering manifest
// clones A into pathway B with HOST "localhost" (the same CDN by another name, so the CDN's log
// tells the pathways apart by Host). The first steering manifest prefers A and reloads from a
// second one that prefers B. Through the proxy the clone must become proxy URIs: hls.js switches
// to B, the proxy's segment requests move to B's host, and the browser never asks the CDN itself.
// Without the rewrite, RELOAD-URI would resolve below the first manifest's proxy link (the proxy
// serves that link's own URL whatever the name: A again, no switch), and HOST would be applied to
// proxy URIs (the CDN would see pathway A only).

const entry = episode('steering', 1, 'hls-steering/master.m3u8');
let started: BrowserStack | undefined;
beforeAll(async () => {
  started = await startBrowserStack([entry], hlsPlayerFiles);
  // Starting Chromium can outlast the default 10 s hook timeout on a loaded runner.
}, 60_000);
afterAll(async () => {
  await started?.close();
});

describe('hls.js switches content steering pathway through the proxy', () => {
  test('the steering server prefers A, then B: hls.js moves to the clone B, and the proxy\'s segment requests move to B\'s host', async () => {
    const { stack, pages, browser } = started!;
    // One second of buffer at a quarter of the speed: the four one-second segments are asked over
    // about twelve seconds, so the switch after the first steering TTL (2 s) falls between them
    // with seconds to spare on a loaded machine.
    const { result, requests, console: pageConsole } = await playOnPage(browser, pages, stack.entryUrl(entry), { buffer: '1', rate: '0.25' }, { playAgainAfterStall: false });
    const pathwayOf = (host: string | undefined) => (host === `127.0.0.1:${stack.cdn.port}` ? 'A' : host === `localhost:${stack.cdn.port}` ? 'B' : `other(${host})`);
    const upstream = cdnRequestsOf(stack, entry);
    const segments = upstream.filter((request) => /^hls-ts\/video\/.*\.ts$/.test(request.resource));
    const audio = upstream.filter((request) => /^hls-ts\/audio\/.*\.ts$/.test(request.resource));
    const steering = upstream.filter((request) => request.resource.startsWith('hls-steering/steering-'));
    const direct = requests.filter((request) => new URL(request.url).port === String(stack.cdn.port));
    console.log(
      `hls.js steering: ${result.outcome}; priorities loaded ${JSON.stringify(result.steering)}; ` +
        `steering requests at the CDN ${steering.map((request) => `${request.resource.split('/').pop()}${request.query}`).join(' ')}; ` +
        `video segments ${segments.map((request) => `${request.resource.split('/').pop()}@${pathwayOf(request.host)}:${request.status}`).join(' ')}; ` +
        `audio segments ${audio.map((request) => `${request.resource.split('/').pop()}@${pathwayOf(request.host)}`).join(' ')}; ` +
        `browser requests ${requests.length}, to the CDN directly ${direct.length}`,
    );
    expect(result.outcome, `${result.fatal ?? ''} ${JSON.stringify(result.errors)} ${pageConsole.join(' | ').slice(0, 500)}`).toBe('ended');
    expect(result.steering.slice(0, 2)).toEqual([['A', 'B'], ['B', 'A']]);
    // The steering server was asked through the proxy with hls.js's pathway and throughput,
    // first for A (the multivariant playlist's PATHWAY-ID), then from the reload URI.
    expect(steering[0]?.resource).toBe('hls-steering/steering-a.json');
    expect(steering[0]?.query).toMatch(/^\?_HLS_pathway=A&_HLS_throughput=\d+$/);
    expect(steering.slice(1).every((request) => request.resource === 'hls-steering/steering-b.json')).toBe(true);
    expect(steering.some((request) => /_HLS_pathway=B&/.test(request.query))).toBe(true);
    // Segments: A's host first, then B's host only, to the end.
    const pathways = segments.map((request) => pathwayOf(request.host));
    expect(segments.every((request) => request.status < 300)).toBe(true);
    expect(pathways[0]).toBe('A');
    expect(pathways.at(-1)).toBe('B');
    expect(pathways.slice(pathways.indexOf('B'))).not.toContain('A');
    expect(pathways.filter((pathway) => pathway !== 'A' && pathway !== 'B')).toEqual([]);
    // Every request of the page went to the proxy (or the page's own origin), none to the CDN.
    expect(direct.map(describeRequest)).toEqual([]);
  }, 60_000);
});
