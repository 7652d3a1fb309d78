import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { mediaFixtures } from '../src/fixtures';
import { cdnRequestsOf, cdnRequestsUnder, episode, failedResources, startStack, type Stack } from './support/stack';
import { firstFrameDifference, framemd5, redact } from './support/tools';

// ffmpeg's DASH demuxer reads the rewritten MPD: every BaseURL, template and byte range must come
// back through the proxy and decode to the very same frames as the CDN's MPD read directly.
const dashFixtures = mediaFixtures.filter((fixture) => fixture.kind === 'dash');
const catalog = dashFixtures.map((fixture, index) => episode('dash', index + 1, fixture.path));
const faulty = {
  // 8 uses: the first URL expires in the middle of the 13 requests of a playback, the fresh one lasts to its end.
  expiring: episode('dash-faults', 1, 'dash-template/manifest.mpd', { faults: { expireAfterUses: 8 } }),
  dropping: episode('dash-faults', 2, 'dash-single-file/manifest.mpd', { faults: { dropAfterBytes: 6000, dropTimes: 3 } }),
};

/** What each fixture makes the proxy fetch from the CDN besides the MPD. */
const expectedUpstream: Record<string, { resources: string[]; ranges: boolean }> = {
  'dash-template': { resources: ['dash-template/init-stream0.m4s', 'dash-template/chunk-stream0-00004.m4s', 'dash-template/init-stream1.m4s', 'dash-template/chunk-stream1-00004.m4s'], ranges: false },
  // ffmpeg 5.1 starts a static SegmentTimeline and a single-file SegmentList at their second segment (directly too).
  'dash-timeline': { resources: ['dash-timeline/init-stream0.m4s', 'dash-timeline/chunk-0-12800.m4s', 'dash-timeline/chunk-0-38400.m4s'], ranges: false },
  'dash-single-file': { resources: ['dash-single-file/manifest-stream0.mp4'], ranges: true },
  'dash-segment-base': { resources: ['dash-single-file/manifest-stream0.mp4'], ranges: false },
  // ffmpeg 5.1's DASH demuxer plays the last Period of a static MPD only (directly too).
  'dash-multi-period': { resources: ['dash-template/init-stream0.m4s', 'dash-template/chunk-stream0-00003.m4s'], ranges: false },
};

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ catalog: [...catalog, ...Object.values(faulty)] });
});
afterAll(async () => {
  await stack?.close();
});

describe('ffmpeg decodes every DASH fixture through the proxy to the same framemd5 as directly', () => {
  test.each(dashFixtures.map((fixture, index) => [fixture.name, fixture, catalog[index]!] as const))('framemd5 %s', async (name, fixture, entry) => {
    const directUrl = stack.cdn.issue(fixture.path);
    const proxiedUrl = stack.entryUrl(entry);
    const direct = await framemd5(directUrl);
    const proxied = await framemd5(proxiedUrl);
    const upstream = cdnRequestsOf(stack, entry);
    const ranges = upstream.filter((request) => request.range !== undefined);
    console.log(
      `dash ${name}: ${direct.frames.length} frames direct (${redact(directUrl)}) vs ${proxied.frames.length} proxied (${redact(proxiedUrl)}), ` +
        `frames per stream ${JSON.stringify(proxied.perStream)}; the proxy made ${upstream.length} CDN requests: ` +
        `${[...new Set(upstream.map((request) => request.resource))].join(', ')}` +
        (ranges.length > 0 ? `; byte ranges ${ranges.map((request) => `${request.range}→${request.status}`).join(' ')}` : ''),
    );
    expect(firstFrameDifference(direct, proxied), `${name}: framemd5 differs`).toBeUndefined();
    expect(direct.frames.length, `${name}: nothing decoded`).toBeGreaterThan(40);
    // The proxy must not fail anything the CDN served directly.
    expect(failedResources(upstream)).toEqual(failedResources(cdnRequestsUnder(stack, directUrl)));
    const fetched = new Set(upstream.map((request) => request.resource));
    for (const resource of expectedUpstream[name]!.resources) expect(fetched, `${name}: the proxy never fetched ${resource}`).toContain(resource);
    if (expectedUpstream[name]!.ranges) expect(ranges.filter((request) => request.status === 206).length, `${name}: byte ranges`).toBeGreaterThanOrEqual(4);
  });
});

describe('a DASH CDN that misbehaves, played by ffmpeg through the proxy', () => {
  test('the URL expires mid-playback (403 after 8 uses): one re-resolution, stale segments found again in the fresh MPD, the same framemd5', async () => {
    const entry = faulty.expiring;
    const direct = await framemd5(stack.cdn.issue(entry.path));
    const proxied = await framemd5(stack.entryUrl(entry));
    const upstream = cdnRequestsOf(stack, entry);
    const hits = stack.resolver.hits(entry);
    const [staleToken, freshToken] = stack.resolver.issuedUrls(entry).map((url) => /\/t\/([^/]+)\//.exec(url)?.[1]);
    const expired = upstream.filter((request) => request.fault === 'expired-uses');
    console.log(
      `dash expiry: ${proxied.frames.length} frames through the proxy, ${direct.frames.length} directly; resolver ${JSON.stringify(hits)}; ` +
        `CDN: ${upstream.map((request) => `${request.resource.split('/').pop()}:${request.status}${request.fault ? `(${request.fault})` : ''}`).join(' ')}`,
    );
    expect(firstFrameDifference(direct, proxied), 'dash-template expiring: framemd5 differs').toBeUndefined();
    expect(hits).toEqual({ total: 2, plain: 1, refresh: 1 });
    // One refused request: the sealed directory of every segment moves at the first 403, and its
    // later segments are asked at the fresh URL directly (relocated ahead), not refused one by one.
    expect(expired).toHaveLength(1);
    expect(expired.every((request) => request.token === staleToken)).toBe(true);
    // After the re-resolution every segment comes from the fresh URL (the one past the end aside).
    const fresh = upstream.filter((request) => request.token === freshToken && !request.resource.endsWith('00005.m4s'));
    expect(fresh.length).toBeGreaterThan(0);
    expect(fresh.every((request) => request.status < 300)).toBe(true);
  });

  test('the origin drops the connection inside a byte range of a single file: the rest is fetched with Range, the same framemd5', async () => {
    const entry = faulty.dropping;
    const direct = await framemd5(stack.cdn.issue(entry.path));
    const proxied = await framemd5(stack.entryUrl(entry));
    const upstream = cdnRequestsOf(stack, entry);
    const drops = upstream.filter((request) => request.fault !== undefined);
    console.log(`dash drops: ${proxied.frames.length} frames; CDN: ${upstream.map((request) => `${request.range ?? 'whole'}:${request.status}${request.fault ? `(${request.fault})` : ''}`).join(' ')}`);
    expect(firstFrameDifference(direct, proxied), 'dash-single-file dropping: framemd5 differs').toBeUndefined();
    expect(drops.length).toBeGreaterThan(0);
    expect(upstream.filter((request) => request.range !== undefined && request.fault === undefined && request.status === 206).length).toBeGreaterThan(4);
  });
});
