import { describe, expect, it } from 'vitest';
import { createManifestRewriteStream, DashRewriteError, ManifestRewriter, rewriteManifest } from '../src/index';
import { cut, proxyCallback, throughTransform } from './helpers';

const BASE = 'https://cdn.test/list/manifest.mpd';

/** A SegmentList manifest with `count` SegmentURLs. */
function bigManifest(count: number): string {
  const segments: string[] = [];
  for (let index = 0; index < count; index++) segments.push(`<SegmentURL media="seg-${index}.m4s?token=abcdef&amp;i=${index}"/>`);
  return `<?xml version="1.0"?>\n<MPD xmlns="urn:mpeg:dash:schema:mpd:2011"><Period><AdaptationSet><Representation id="r"><SegmentList>\n${segments.join('\n')}\n</SegmentList></Representation></AdaptationSet></Period></MPD>\n`;
}

describe('streams', () => {
  it('the Web TransformStream writes what rewriteManifest returns, and errors with DashRewriteError', async () => {
    const input = bigManifest(50);
    const expected = rewriteManifest(input, { baseUrl: BASE, rewriteUrl: proxyCallback }).text;
    const stream = createManifestRewriteStream({ baseUrl: BASE, rewriteUrl: proxyCallback });
    const output = await new Response(new Blob([input]).stream().pipeThrough(stream)).text();
    expect(output).toBe(expected);
    expect(stream.stats.urls).toBe(50);

    const failing = createManifestRewriteStream({ baseUrl: BASE, rewriteUrl: proxyCallback });
    await expect(new Response(new Blob(['<html/>']).stream().pipeThrough(failing)).text()).rejects.toBeInstanceOf(DashRewriteError);
  });

  it('the Node Transform fails the pipeline with DashRewriteError on a truncated manifest', async () => {
    const input = Buffer.from(bigManifest(3).slice(0, -10));
    await expect(throughTransform(cut(input, 16), { baseUrl: BASE, rewriteUrl: proxyCallback })).rejects.toMatchObject({ code: 'DASH_TRUNCATED' });
  });

  it('memory is bounded by the largest element: the rewriter holds at most one piece of markup between pushes', () => {
    const rewriter = new ManifestRewriter({ baseUrl: BASE, rewriteUrl: proxyCallback, maxElementLength: 256 });
    // 100,000 segments (about 6 MB) through a 256-character bound: any buffering of the document would fail.
    const chunk = new TextEncoder().encode(bigManifest(100_000));
    let outputLength = 0;
    for (const piece of cut(chunk, 64 * 1024)) outputLength += rewriter.push(piece).length;
    outputLength += rewriter.end().length;
    expect(rewriter.stats.urls).toBe(100_000);
    expect(outputLength).toBeGreaterThan(chunk.length);
  });
});
