import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readSteeringPathways, rewriteSteeringManifest, type SteeringUriContext } from '../src/index';

// The golden pair of a content steering manifest (HLS Content Steering 1.2), served for the
// multivariant playlist of RFC 8216bis §9.12: fixtures/README.md says how it was made and checked.

const fixtures = new URL('../fixtures/', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, fixtures), 'utf8');
const MULTIVARIANT_URL = 'https://example.com/videos/video12/mv.m3u8';
// The playlist's SERVER-URI, "/steering?video=00012", resolved against its URL.
const STEERING_URL = 'https://example.com/steering?video=00012';
const steeringCallback = ({ kind, href }: SteeringUriContext) => `https://proxy.test/${kind}/${encodeURIComponent(href)}`;

describe('content steering manifest of §9.12', () => {
  const pathways = readSteeringPathways(read('rfc8216bis/9.12-content-steering-playlist.m3u8'), MULTIVARIANT_URL);
  const expected = read('steering/9.12-steering-manifest.expected.json');

  it(`rewriteSteeringManifest(9.12-steering-manifest.json, { baseUrl: '${STEERING_URL}', pathways of 9.12 }) equals 9.12-steering-manifest.expected.json`, () => {
    const { text, stats } = rewriteSteeringManifest(read('steering/9.12-steering-manifest.json'), { baseUrl: STEERING_URL, pathways, rewriteUri: steeringCallback });
    // The compact text a player receives, member order included.
    expect(text).toBe(JSON.stringify(JSON.parse(expected)));
    expect(stats).toEqual({ uris: 6, expanded: 3, warnings: [] });
  });

  it('the identity callback changes only what a client derives itself: HOST and PARAMS become the URIs they stand for', () => {
    const { manifest } = rewriteSteeringManifest(read('steering/9.12-steering-manifest.json'), { baseUrl: STEERING_URL, pathways, rewriteUri: ({ href }) => href });
    expect(manifest['PATHWAY-CLONES']![0]!['URI-REPLACEMENT']).toEqual({
      'PER-VARIANT-URIS': {
        'Video-128': 'https://c.example.com/videos/video12/128/video.m3u8?cdn=c&token=c+1',
        'Video-768': 'https://c.example.com/videos/video12/768/video.m3u8?cdn=c&token=c+1',
      },
      'PER-RENDITION-URIS': { 'Audio-37262': 'https://c.example.com/videos/video12/eng.m3u8?cdn=c&token=c+1' },
    });
  });
});
