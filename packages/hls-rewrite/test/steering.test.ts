import { describe, expect, it } from 'vitest';
import {
  HlsRewriteError, MAX_STEERING_MANIFEST_BYTES, parseSteeringManifest, readSteeringPathways, rewriteSteeringManifest, steeringNeedsPathways,
  type SteeringManifest, type SteeringUriContext,
} from '../src/index';

// HLS Content Steering 1.2 (the steering manifest) and RFC 8216bis 4.4.6.2 / 4.4.6.6
// (PATHWAY-ID, STABLE-VARIANT-ID, EXT-X-CONTENT-STEERING).

const MULTIVARIANT = [
  '#EXTM3U',
  '#EXT-X-CONTENT-STEERING:SERVER-URI="steer/manifest.json",PATHWAY-ID="A"',
  '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aud",NAME="en",STABLE-RENDITION-ID="en",URI="audio/en.m3u8"',
  '#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",NAME="de",URI="subs/de.m3u8"',
  '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="other",NAME="fr",STABLE-RENDITION-ID="fr",URI="audio/fr.m3u8"',
  '#EXT-X-STREAM-INF:BANDWIDTH=2000000,PATHWAY-ID="A",STABLE-VARIANT-ID="hd",AUDIO="aud",SUBTITLES="subs"',
  'video/hd.m3u8?sig=1',
  '#EXT-X-STREAM-INF:BANDWIDTH=500000,PATHWAY-ID="A",AUDIO="aud"',
  'video/sd.m3u8',
  '#EXT-X-STREAM-INF:BANDWIDTH=2000000,PATHWAY-ID="C",STABLE-VARIANT-ID="hd",AUDIO="other"',
  'https://c.example/hd.m3u8',
  '#EXT-X-STREAM-INF:BANDWIDTH=1',
  'plain.m3u8',
  '',
].join('\r\n');
const MULTIVARIANT_URL = 'https://a.example/show/master.m3u8';
const STEERING_URL = 'https://steer.example/v1/manifest.json?session=9';

/** A callback whose output shows what it got. */
const tagged = ({ field, kind, href, pathwayId, stableId, expanded }: SteeringUriContext) =>
  `proxy:${field}:${kind}:${pathwayId ?? '-'}:${stableId ?? '-'}:${expanded ? 'expanded' : 'listed'}:${href}`;

const manifest = (extra: Partial<SteeringManifest> = {}): string => JSON.stringify({ VERSION: 1, TTL: 300, 'PATHWAY-PRIORITY': ['A', 'B'], ...extra });

describe('parseSteeringManifest', () => {
  it('parseSteeringManifest(a minimal manifest) keeps every member', () => {
    expect(parseSteeringManifest('{"VERSION":1,"TTL":10,"PATHWAY-PRIORITY":["A"],"X-OTHER":{"a":1}}')).toEqual({ VERSION: 1, TTL: 10, 'PATHWAY-PRIORITY': ['A'], 'X-OTHER': { a: 1 } });
  });

  it('reads bytes as UTF-8', () => {
    expect(parseSteeringManifest(new TextEncoder().encode(manifest({ 'PATHWAY-PRIORITY': ['CDN-ä'] })))['PATHWAY-PRIORITY']).toEqual(['CDN-ä']);
  });

  it.each([
    ['<html>gone</html>', /not JSON \(it starts "<html>gone<\/html>"\)/],
    ['', /not JSON/],
    ['[1]', /not an object/],
    ['{"VERSION":2,"TTL":1,"PATHWAY-PRIORITY":[]}', /VERSION must be 1, received "2"/],
    ['{"TTL":1,"PATHWAY-PRIORITY":[]}', /VERSION must be 1, received "nothing"/],
    ['{"VERSION":1,"PATHWAY-PRIORITY":[]}', /TTL/],
    ['{"VERSION":1,"TTL":-1,"PATHWAY-PRIORITY":[]}', /TTL/],
    ['{"VERSION":1,"TTL":1,"PATHWAY-PRIORITY":"A"}', /PATHWAY-PRIORITY must be an array/],
    ['{"VERSION":1,"TTL":1,"PATHWAY-PRIORITY":[1]}', /PATHWAY-PRIORITY/],
    ['{"VERSION":1,"TTL":1,"PATHWAY-PRIORITY":[],"RELOAD-URI":5}', /RELOAD-URI must be a string/],
    ['{"VERSION":1,"TTL":1,"PATHWAY-PRIORITY":[],"PATHWAY-CLONES":{}}', /PATHWAY-CLONES must be an array/],
    ['{"VERSION":1,"TTL":1,"PATHWAY-PRIORITY":[],"PATHWAY-CLONES":[{"ID":"B","URI-REPLACEMENT":{}}]}', /PATHWAY-CLONES\[0\] needs BASE-ID and ID/],
    ['{"VERSION":1,"TTL":1,"PATHWAY-PRIORITY":[],"PATHWAY-CLONES":[{"BASE-ID":"A","ID":"B"}]}', /URI-REPLACEMENT must be an object/],
    ['{"VERSION":1,"TTL":1,"PATHWAY-PRIORITY":[],"PATHWAY-CLONES":[{"BASE-ID":"A","ID":"B","URI-REPLACEMENT":{"HOST":1}}]}', /HOST must be a string/],
    ['{"VERSION":1,"TTL":1,"PATHWAY-PRIORITY":[],"PATHWAY-CLONES":[{"BASE-ID":"A","ID":"B","URI-REPLACEMENT":{"PARAMS":{"a":1}}}]}', /PARAMS must be an object of strings/],
    ['{"VERSION":1,"TTL":1,"PATHWAY-PRIORITY":[],"PATHWAY-CLONES":[{"BASE-ID":"A","ID":"B","URI-REPLACEMENT":{"PER-VARIANT-URIS":["x"]}}]}', /PER-VARIANT-URIS must be an object of strings/],
  ])('parseSteeringManifest(%j) is HLS_STEERING_INVALID', (text, message) => {
    expect(() => parseSteeringManifest(text)).toThrow(message);
    expect(() => parseSteeringManifest(text)).toThrow(expect.objectContaining({ code: 'HLS_STEERING_INVALID' }));
  });

  it('invalid UTF-8 is HLS_STEERING_INVALID', () => {
    expect(() => parseSteeringManifest(Uint8Array.of(0x7b, 0xff, 0x7d))).toThrow(expect.objectContaining({ code: 'HLS_STEERING_INVALID', message: expect.stringMatching(/not UTF-8/) }));
  });

  it(`a manifest over ${MAX_STEERING_MANIFEST_BYTES} bytes is HLS_STEERING_TOO_LARGE, as bytes or as text`, () => {
    const large = manifest({ 'X-PAD': 'x'.repeat(MAX_STEERING_MANIFEST_BYTES) });
    expect(() => parseSteeringManifest(large)).toThrow(HlsRewriteError);
    expect(() => parseSteeringManifest(large)).toThrow(expect.objectContaining({ code: 'HLS_STEERING_TOO_LARGE' }));
    expect(() => parseSteeringManifest(new TextEncoder().encode(large))).toThrow(expect.objectContaining({ code: 'HLS_STEERING_TOO_LARGE' }));
    // Multi-byte characters count as bytes.
    const wide = manifest({ 'X-PAD': 'é'.repeat(MAX_STEERING_MANIFEST_BYTES / 2) });
    expect(() => parseSteeringManifest(wide)).toThrow(expect.objectContaining({ code: 'HLS_STEERING_TOO_LARGE' }));
  });
});

describe('readSteeringPathways', () => {
  it('lists every variant with its pathway (default ".") and stable ID, and every rendition with a URI, as absolute URLs', () => {
    expect(readSteeringPathways(MULTIVARIANT, MULTIVARIANT_URL)).toEqual({
      variants: [
        { pathwayId: 'A', stableVariantId: 'hd', href: 'https://a.example/show/video/hd.m3u8?sig=1', groups: ['aud', 'subs'] },
        { pathwayId: 'A', stableVariantId: undefined, href: 'https://a.example/show/video/sd.m3u8', groups: ['aud'] },
        { pathwayId: 'C', stableVariantId: 'hd', href: 'https://c.example/hd.m3u8', groups: ['other'] },
        { pathwayId: '.', stableVariantId: undefined, href: 'https://a.example/show/plain.m3u8', groups: [] },
      ],
      renditions: [
        { groupId: 'aud', stableRenditionId: 'en', href: 'https://a.example/show/audio/en.m3u8' },
        { groupId: 'subs', stableRenditionId: undefined, href: 'https://a.example/show/subs/de.m3u8' },
        { groupId: 'other', stableRenditionId: 'fr', href: 'https://a.example/show/audio/fr.m3u8' },
      ],
    });
  });

  it('substitutes EXT-X-DEFINE variables as the rewrite does', () => {
    const text = '#EXTM3U\n#EXT-X-DEFINE:NAME="cdn",VALUE="https://v.example"\n#EXT-X-STREAM-INF:BANDWIDTH=1,STABLE-VARIANT-ID="x"\n{$cdn}/x.m3u8\n';
    expect(readSteeringPathways(text, MULTIVARIANT_URL).variants.map((variant) => variant.href)).toEqual(['https://v.example/x.m3u8']);
  });
});

describe('rewriteSteeringManifest', () => {
  const pathways = readSteeringPathways(MULTIVARIANT, MULTIVARIANT_URL);

  it('RELOAD-URI is resolved against the manifest URL and rewritten as the next steering manifest', () => {
    const { manifest: out, stats } = rewriteSteeringManifest(manifest({ 'RELOAD-URI': '../v2/next.json?session=9' }), { baseUrl: STEERING_URL, rewriteUri: tagged });
    expect(out['RELOAD-URI']).toBe('proxy:RELOAD-URI:steering:-:-:listed:https://steer.example/v2/next.json?session=9');
    expect(out['PATHWAY-PRIORITY']).toEqual(['A', 'B']);
    expect(stats).toEqual({ uris: 1, expanded: 0, warnings: [] });
  });

  it('listed PER-VARIANT-URIS and PER-RENDITION-URIS are rewritten; HOST and PARAMS are expanded for the base pathway\'s stable IDs, then dropped', () => {
    const input = manifest({
      'PATHWAY-PRIORITY': ['B', 'A'],
      'PATHWAY-CLONES': [{
        'BASE-ID': 'A', ID: 'B',
        'URI-REPLACEMENT': { HOST: 'b.example', PARAMS: { z: '1', cdn: 'b' }, 'PER-VARIANT-URIS': { uhd: 'https://b.example/uhd.m3u8' }, 'X-KEEP': 1 },
      }],
    });
    const { manifest: out, text, stats } = rewriteSteeringManifest(input, { baseUrl: STEERING_URL, rewriteUri: tagged, pathways });
    expect(out['PATHWAY-CLONES']).toEqual([{
      'BASE-ID': 'A', ID: 'B',
      'URI-REPLACEMENT': {
        'X-KEEP': 1,
        'PER-VARIANT-URIS': {
          uhd: 'proxy:PER-VARIANT-URIS:playlist:B:uhd:listed:https://b.example/uhd.m3u8',
          // A client sets each parameter, in name order, on the base URI with the new host name.
          hd: 'proxy:PER-VARIANT-URIS:playlist:B:hd:expanded:https://b.example/show/video/hd.m3u8?sig=1&cdn=b&z=1',
        },
        // Only the groups of pathway A's variants, with a stable ID ("de" has none).
        'PER-RENDITION-URIS': { en: 'proxy:PER-RENDITION-URIS:playlist:B:en:expanded:https://b.example/show/audio/en.m3u8?cdn=b&z=1' },
      },
    }]);
    expect(JSON.parse(text)).toEqual(out);
    expect(stats.uris).toBe(3);
    expect(stats.expanded).toBe(2);
    expect(stats.warnings).toEqual(['pathway "B": a variant without a stable ID keeps its base pathway\'s URI', 'pathway "B": a rendition without a stable ID keeps its base pathway\'s URI']);
  });

  it('a listed URI wins over HOST for its stable ID', () => {
    const input = manifest({ 'PATHWAY-CLONES': [{ 'BASE-ID': 'A', ID: 'B', 'URI-REPLACEMENT': { HOST: 'b.example', 'PER-VARIANT-URIS': { hd: 'hd-b.m3u8' } } }] });
    const { manifest: out } = rewriteSteeringManifest(input, { baseUrl: STEERING_URL, rewriteUri: tagged, pathways });
    expect(out['PATHWAY-CLONES']![0]!['URI-REPLACEMENT']['PER-VARIANT-URIS']).toEqual({ hd: 'proxy:PER-VARIANT-URIS:playlist:B:hd:listed:https://steer.example/v1/hd-b.m3u8' });
  });

  it('a clone of a clone starts from its base clone\'s URIs', () => {
    const input = manifest({
      'PATHWAY-CLONES': [
        { 'BASE-ID': 'A', ID: 'B', 'URI-REPLACEMENT': { HOST: 'b.example' } },
        { 'BASE-ID': 'B', ID: 'D', 'URI-REPLACEMENT': { PARAMS: { d: '1' } } },
      ],
    });
    const { manifest: out } = rewriteSteeringManifest(input, { baseUrl: STEERING_URL, rewriteUri: ({ href }) => href, pathways });
    expect(out['PATHWAY-CLONES']![1]!['URI-REPLACEMENT']).toEqual({
      'PER-VARIANT-URIS': { hd: 'https://b.example/show/video/hd.m3u8?sig=1&d=1' },
      'PER-RENDITION-URIS': { en: 'https://b.example/show/audio/en.m3u8?d=1' },
    });
  });

  it('without the pathways, HOST and PARAMS are dropped with a warning (the clone plays its base pathway\'s URIs)', () => {
    const input = manifest({ 'PATHWAY-CLONES': [{ 'BASE-ID': 'A', ID: 'B', 'URI-REPLACEMENT': { HOST: 'b.example', PARAMS: { a: '1' } } }] });
    expect(steeringNeedsPathways(parseSteeringManifest(input))).toBe(true);
    const { manifest: out, stats } = rewriteSteeringManifest(input, { baseUrl: STEERING_URL, rewriteUri: tagged });
    expect(out['PATHWAY-CLONES']![0]!['URI-REPLACEMENT']).toEqual({});
    expect(stats.warnings).toEqual(['pathway "B": HOST and PARAMS dropped, the multivariant playlist was not given']);
  });

  it('a manifest with listed URIs only needs no pathways; non-http(s) URIs are kept as they are', () => {
    const input = manifest({ 'RELOAD-URI': 'data:application/json,{}', 'PATHWAY-CLONES': [{ 'BASE-ID': 'A', ID: 'B', 'URI-REPLACEMENT': { 'PER-VARIANT-URIS': { hd: 'skd://x' } } }] });
    expect(steeringNeedsPathways(parseSteeringManifest(input))).toBe(false);
    const { manifest: out, stats } = rewriteSteeringManifest(input, { baseUrl: STEERING_URL, rewriteUri: tagged });
    expect(out['RELOAD-URI']).toBe('data:application/json,{}');
    expect(out['PATHWAY-CLONES']![0]!['URI-REPLACEMENT']).toEqual({ 'PER-VARIANT-URIS': { hd: 'skd://x' } });
    expect(stats.uris).toBe(0);
  });

  it('takes a parsed manifest and leaves it unchanged', () => {
    const parsed = parseSteeringManifest(manifest({ 'RELOAD-URI': 'next.json' }));
    const { manifest: out } = rewriteSteeringManifest(parsed, { baseUrl: STEERING_URL, rewriteUri: () => 'x' });
    expect(out['RELOAD-URI']).toBe('x');
    expect(parsed['RELOAD-URI']).toBe('next.json');
  });

  it('invalid input throws HLS_STEERING_INVALID before the callback runs', () => {
    let calls = 0;
    expect(() => rewriteSteeringManifest('{"VERSION":1', { baseUrl: STEERING_URL, rewriteUri: () => String(++calls) })).toThrow(expect.objectContaining({ code: 'HLS_STEERING_INVALID' }));
    expect(calls).toBe(0);
  });
});
