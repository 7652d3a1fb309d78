import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { mediaFixtures } from '../src/fixtures';
import { mismatches, walkBoth } from './support/playlists';
import { cdnRequestsOf, episode, startStack, type Stack } from './support/stack';
import { firstFrameDifference, framemd5, redact } from './support/tools';

// A player decodes HLS from many URLs: variants, renditions, keys, init maps, byte ranges. Every
// one of them must come back through the proxy and decode to the very same frames.
const hlsFixtures = mediaFixtures.filter((fixture) => fixture.kind === 'hls');
const catalog = hlsFixtures.map((fixture, index) => episode('decode', index + 1, fixture.path));

/** What each fixture makes the proxy fetch besides playlists and whole segments. */
const expectedUpstream: Record<string, { resources: string[]; ranges: boolean }> = {
  'hls-ts': { resources: ['hls-ts/keys/video.key', 'hls-ts/keys/audio.key', 'hls-ts/audio/en/index.m3u8', 'hls-ts/video/90p/index.m3u8'], ranges: false },
  'hls-fmp4': { resources: ['hls-fmp4/stream/init.mp4'], ranges: false },
  'hls-byterange': { resources: ['hls-byterange/media.ts'], ranges: true },
};

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ catalog });
});
afterAll(async () => {
  await stack?.close();
});

describe('ffmpeg decodes every HLS fixture through the proxy to the same framemd5 as directly', () => {
  test.each(hlsFixtures.map((fixture, index) => [fixture.name, fixture, catalog[index]!] as const))('framemd5 %s', async (name, fixture, entry) => {
    const directUrl = stack.cdn.issue(fixture.path);
    const proxiedUrl = stack.entryUrl(entry);
    const direct = await framemd5(directUrl);
    const proxied = await framemd5(proxiedUrl);
    const upstream = cdnRequestsOf(stack, entry);
    const ranges = upstream.filter((request) => request.range !== undefined && request.resource.endsWith('media.ts'));
    console.log(
      `decode ${name}: ${direct.frames.length} frames direct (${redact(directUrl)}) vs ${proxied.frames.length} proxied (${redact(proxiedUrl)}), ` +
        `frames per stream ${JSON.stringify(proxied.perStream)}; the proxy made ${upstream.length} CDN requests: ` +
        `${[...new Set(upstream.map((request) => request.resource.split('/').slice(1).join('/')))].join(', ')}` +
        (ranges.length > 0 ? `; byte ranges ${ranges.map((request) => request.range).join(' ')}` : ''),
    );
    expect(firstFrameDifference(direct, proxied), `${name}: framemd5 differs`).toBeUndefined();
    expect(direct.frames.length, `${name}: nothing decoded`).toBeGreaterThan(100);
    expect(upstream.filter((request) => request.status >= 400).map((request) => `${request.status} ${request.resource}`)).toEqual([]);
    const fetched = new Set(upstream.map((request) => request.resource));
    for (const resource of expectedUpstream[name]!.resources) expect(fetched, `${name}: the proxy never fetched ${resource}`).toContain(resource);
    if (expectedUpstream[name]!.ranges) {
      expect(ranges.filter((request) => request.status === 206).length, `${name}: byte ranges of media.ts`).toBeGreaterThanOrEqual(4);
    }
  });

  test.each(hlsFixtures.map((fixture, index) => [fixture.name, fixture, catalog[index]!] as const))(
    'every URI of every playlist of %s (keys, maps, subtitles, I-frames included) has the CDN bytes through the proxy',
    async (name, fixture, entry) => {
      const { resources, playlists } = await walkBoth(stack.entryUrl(entry), stack.cdn.issue(fixture.path));
      const media = resources.filter((resource) => !resource.playlist);
      console.log(
        `decode ${name}: walked ${playlists.length} rewritten playlists, ${media.length} media URIs compared byte for byte ` +
          `(${media.reduce((sum, resource) => sum + resource.proxiedBytes, 0)} bytes): ` +
          media.map((resource) => `${resource.directUrl.split('/').slice(-2).join('/')}→${resource.proxiedUri.split('/').pop()}`).join(' '),
      );
      expect(mismatches(resources), `${name}: resources that differ through the proxy`).toEqual([]);
      expect(media.length).toBeGreaterThan(0);
      if (name === 'hls-ts') {
        const names = media.map((resource) => resource.directUrl);
        expect(names.some((url) => url.endsWith('.vtt')), 'subtitle cues walked').toBe(true);
        expect(names.some((url) => url.includes('/iframes/')), 'I-frame segments walked').toBe(true);
      }
    },
  );
});
