import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { rewriteManifest } from '../src/index';
import { cut, identity, proxyCallback, throughTransform } from './helpers';

interface GoldenCase {
  file: string;
  section: string;
  baseUrl: string;
}

const fixtures = new URL('../fixtures/', import.meta.url);
const cases = JSON.parse(readFileSync(new URL('cases.json', fixtures), 'utf8')) as GoldenCase[];
const read = (name: string) => readFileSync(new URL(`elements/${name}`, fixtures), 'utf8');
const expectedName = (file: string) => file.replace(/\.(mpd|mpp)$/, '.expected.$1');

describe.each(cases)('ISO/IEC 23009-1 $section: $file', ({ file, baseUrl }) => {
  const input = read(file);
  const expected = read(expectedName(file));

  it(`rewriteManifest(${file}, { baseUrl: '${baseUrl}' }) equals ${expectedName(file)}`, () => {
    expect(rewriteManifest(input, { baseUrl, rewriteUrl: proxyCallback }).text).toBe(expected);
  });

  it('the Node transform fed 7-byte chunks writes the same bytes', async () => {
    const output = await throughTransform(cut(Buffer.from(input), 7), { baseUrl, rewriteUrl: proxyCallback });
    expect(output.toString('utf8')).toBe(expected);
  });

  it('the identity callback gives the input back byte for byte', () => {
    expect(rewriteManifest(input, { baseUrl, rewriteUrl: identity }).text).toBe(input);
  });

  it('outside URLs, every byte is the input\'s: removing the URLs of both leaves the same text', () => {
    const strip = (text: string) => text.replace(/https:\/\/proxy\.test\/[a-z]+\?u=[^"'<&]*&amp;v=1/g, 'URL');
    const stripped = strip(expected);
    expect(stripped).not.toContain('proxy.test');
    // Every rewritten position held a URL in the input: the input, with its rewritten values replaced by URL, is the same text.
    const { text } = rewriteManifest(input, { baseUrl, rewriteUrl: () => 'URL' });
    expect(stripped).toBe(text);
  });
});

it('every fixture file is listed in cases.json, one per MPD element family', () => {
  expect(cases.length).toBeGreaterThanOrEqual(9);
});

describe('what each element yields', () => {
  const seen = (file: string, baseUrl: string) => {
    const contexts: Array<[string, string | undefined, string, string]> = [];
    rewriteManifest(read(file), {
      baseUrl,
      rewriteUrl: (context) => {
        contexts.push([context.element, context.attribute, context.kind, context.href]);
        return context.uri;
      },
    });
    return contexts;
  };

  it('BaseURL at every level nests: each resolves against the first BaseURL of its parent (5.6.4)', () => {
    expect(seen('base-url-every-level.mpd', 'https://origin.example.com/show/e01/manifest.mpd')).toEqual([
      ['BaseURL', undefined, 'base', 'https://cdn-a.example.com/content/'],
      ['BaseURL', undefined, 'base', 'https://cdn-b.example.com/mirror/content/'],
      ['BaseURL', undefined, 'base', 'https://cdn-a.example.com/content/period-0/'],
      ['BaseURL', undefined, 'base', 'https://cdn-a.example.com/content/period-0/video/'],
      ['BaseURL', undefined, 'base', 'https://cdn-a.example.com/content/period-0/video/720p/main.mp4'],
      ['BaseURL', undefined, 'base', 'https://cdn-a.example.com/content/other/1080p.mp4'],
    ]);
  });

  it('SegmentTemplate keeps $Number$, $Time$, $RepresentationID$, $Bandwidth$ and format tags in href', () => {
    const hrefs = seen('segment-template-number.mpd', 'https://origin.example.com/vod/e02/manifest.mpd?token=t1').map((entry) => entry[3]);
    expect(hrefs).toContain('https://origin.example.com/vod/e02/chunk-stream$RepresentationID$-$Number%05d$.m4s');
    expect(hrefs).toContain('https://origin.example.com/vod/e02/audio/$Bandwidth$/$Number$.m4s?token=abc&exp=9');
    const live = seen('segment-template-timeline.mpd', 'https://live.example.com/channel/1/manifest.mpd');
    expect(live).toContainEqual(['SegmentTemplate', 'media', 'segment', 'https://live.example.com/channel/1/$RepresentationID$/t$Time$.m4s']);
    expect(live).toContainEqual(['Location', undefined, 'manifest', 'https://live.example.com/channel/1/manifest.mpd?session=42']);
    expect(live).toContainEqual(['PatchLocation', undefined, 'patch', 'https://live.example.com/channel/1/patch.mpp?publishTime=2026-01-01T00:00:10Z']);
    expect(live.some(([element]) => element === 'UTCTiming')).toBe(false);
  });

  it('SegmentList, SegmentURL, Initialization, RepresentationIndex and BitstreamSwitching', () => {
    expect(seen('segment-list.mpd', 'https://origin.example.com/list/manifest.mpd')).toEqual([
      ['Initialization', 'sourceURL', 'init', 'https://origin.example.com/list/init.mp4'],
      ['RepresentationIndex', 'sourceURL', 'index', 'https://origin.example.com/index/r0.sidx'],
      ['BitstreamSwitching', 'sourceURL', 'init', 'https://origin.example.com/list/switch.mp4'],
      ['SegmentURL', 'media', 'segment', 'https://origin.example.com/list/seg-1.m4s'],
      ['SegmentURL', 'index', 'index', 'https://origin.example.com/list/seg-1.sidx'],
      ['SegmentURL', 'media', 'segment', 'https://origin.example.com/list/seg-2.m4s'],
    ]);
  });

  it('ContentSteering is a steering URL; foreign elements, xlink:href and UTCTiming are not touched', () => {
    expect(seen('content-steering.mpd', 'https://origin.example.com/steer/manifest.mpd')[0]).toEqual([
      'ContentSteering', undefined, 'steering', 'https://steering.example.com/dash.dcsm?video=1',
    ]);
    expect(seen('namespaces-and-foreign-elements.mpd', 'https://origin.example.com/ns/manifest.mpd')).toEqual([
      ['BaseURL', undefined, 'base', 'https://cdn.example.com/root/'],
      ['SegmentTemplate', 'media', 'segment', 'https://cdn.example.com/root/seg-$Number$.m4s?a=%22b%22'],
      ['SegmentTemplate', 'initialization', 'init', 'https://cdn.example.com/root/init.mp4'],
    ]);
  });
});
