import { describe, expect, it } from 'vitest';
import { DashRewriteError, rewriteManifest, type RewriteOptions, type UrlContext } from '../src/index';

// The limits on the work one manifest may cause: each breach is a DashRewriteError with its own
// code, thrown at the breach (the callback is not called again).

const BASE = 'https://cdn.test/show/manifest.mpd';

function outcome(segments: number, options: Partial<RewriteOptions> = {}, replacement = (context: UrlContext) => context.uri) {
  const text = `<MPD xmlns="urn:mpeg:dash:schema:mpd:2011"><Period><AdaptationSet><Representation><SegmentList>${'<SegmentURL media="a"/>'.repeat(segments)}</SegmentList></Representation></AdaptationSet></Period></MPD>`;
  let calls = 0;
  try {
    rewriteManifest(text, { baseUrl: BASE, rewriteUrl: (context) => (calls++, replacement(context)), ...options });
    return { code: 'ok', calls };
  } catch (error) {
    if (!(error instanceof DashRewriteError)) throw error;
    return { code: error.code, calls };
  }
}

const longLink = (context: UrlContext) => `../proxy/${'t'.repeat(3000)}/${context.uri}`;

describe('URLs per manifest (maxUrls)', () => {
  it.each([
    { segments: 50, limit: 50, code: 'ok', calls: 50 },
    { segments: 51, limit: 50, code: 'DASH_TOO_MANY_URLS', calls: 50 },
  ])('$segments URLs, limit $limit: $code after $calls callbacks', ({ segments, limit, code, calls }) => {
    expect(outcome(segments, { maxUrls: limit })).toMatchObject({ code, calls });
  });
});

describe('output size (maxOutputLength, maxOutputRatio)', () => {
  it('100,000 one-character SegmentURLs with 3 KB replacements: DASH_OUTPUT_AMPLIFIED within the first hundred', () => {
    const result = outcome(100_000, {}, longLink);
    expect(result.code).toBe('DASH_OUTPUT_AMPLIFIED');
    expect(result.calls).toBeLessThan(100);
  });

  it.each([
    { limit: 7_000_000, code: 'ok' },
    { limit: 3_000_000, code: 'DASH_OUTPUT_TOO_LARGE' },
  ])('2,000 URLs of ~3 KB output each, maxOutputLength $limit: $code', ({ limit, code }) => {
    expect(outcome(2000, { maxOutputLength: limit, maxOutputRatio: 1e6 }, longLink).code).toBe(code);
  });

  it.each([['maxUrls', 0], ['maxOutputLength', 2.5], ['maxOutputRatio', -1]])('%s: %s is a TypeError naming the option', (name, value) => {
    expect(() => outcome(1, { [name]: value })).toThrow(new RegExp(`options.${name}`));
  });
});
