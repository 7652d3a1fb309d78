import { describe, expect, it } from 'vitest';
import { DashRewriteError, ManifestRewriter, rewriteManifest, type UrlContext } from '../src/index';
import { identity, proxyCallback } from './helpers';

const BASE = 'https://cdn.test/show/manifest.mpd';
const NS = 'xmlns="urn:mpeg:dash:schema:mpd:2011"';

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    if (error instanceof DashRewriteError) return error.code;
    throw error;
  }
  return undefined;
}

describe('XML escaping: decoded before resolving, encoded on output', () => {
  it.each([
    ['media="a.m4s?x=1&amp;y=2"', 'https://cdn.test/show/a.m4s?x=1&y=2'],
    ['media="a.m4s?x=1&#38;y=2"', 'https://cdn.test/show/a.m4s?x=1&y=2'],
    ["media='q&apos;s.m4s'", "https://cdn.test/show/q's.m4s"],
    ['media="&#x2F;abs.m4s"', 'https://cdn.test/abs.m4s'],
    ['media="  spaced.m4s\n"', 'https://cdn.test/show/spaced.m4s'],
  ])('SegmentURL %s resolves to %s', (attribute, href) => {
    const hrefs: string[] = [];
    rewriteManifest(`<MPD ${NS}><SegmentURL ${attribute}/></MPD>`, { baseUrl: BASE, rewriteUrl: (c) => (hrefs.push(c.href), c.uri) });
    expect(hrefs).toEqual([href]);
  });

  it.each([
    ['"', 'https://p.test/?a=1&b="2"<', 'media="https://p.test/?a=1&amp;b=&quot;2&quot;&lt;"'],
    ["'", "https://p.test/?a='1'", "media='https://p.test/?a=&apos;1&apos;'"],
    ['"', 'https://p.test/\tx', 'media="https://p.test/&#9;x"'],
  ])('a replacement in a %s-quoted attribute is escaped: %s', (quote, replacement, written) => {
    const { text } = rewriteManifest(`<MPD ${NS}><SegmentURL media=${quote}a.m4s${quote}/></MPD>`, { baseUrl: BASE, rewriteUrl: () => replacement });
    expect(text).toBe(`<MPD ${NS}><SegmentURL ${written}/></MPD>`);
  });

  it('a replacement in element text escapes &, < and > (so "]]>" cannot appear)', () => {
    const { text } = rewriteManifest(`<MPD ${NS}><BaseURL>x/</BaseURL></MPD>`, { baseUrl: BASE, rewriteUrl: () => 'https://p.test/a&b<c>]]>/' });
    expect(text).toBe(`<MPD ${NS}><BaseURL>https://p.test/a&amp;b&lt;c&gt;]]&gt;/</BaseURL></MPD>`);
  });

  it('returning the decoded uri keeps the original spelling (&#38; stays &#38;)', () => {
    const input = `<MPD ${NS}><BaseURL>a/?x=1&#38;y=2</BaseURL><SegmentURL media="b?x&#x26;y"/></MPD>`;
    expect(rewriteManifest(input, { baseUrl: BASE, rewriteUrl: identity }).text).toBe(input);
  });

  it('an undeclared entity or a bare & leaves the URL as it is, counted as skipped with a warning', () => {
    const input = `<MPD ${NS}><BaseURL>a/&custom;</BaseURL><SegmentURL media="b?x&y"/></MPD>`;
    const { text, stats } = rewriteManifest(input, { baseUrl: BASE, rewriteUrl: proxyCallback });
    expect(text).toBe(input);
    expect(stats.skipped).toBe(2);
    expect(stats.warnings).toHaveLength(2);
  });
});

describe('bases: upstream and output', () => {
  it('outputBase follows the replacements of BaseURLs, resolved against outputUrl', () => {
    const seen: Array<Pick<UrlContext, 'href' | 'outputBase' | 'base'>> = [];
    rewriteManifest(
      `<MPD ${NS}><BaseURL>https://cdn2.test/v/</BaseURL><Period><BaseURL>p1/</BaseURL><AdaptationSet><SegmentTemplate media="$Number$.m4s"/></AdaptationSet></Period></MPD>`,
      {
        baseUrl: BASE,
        outputUrl: 'http://proxy.invalid/strm/stream?x=1',
        rewriteUrl: (c) => {
          seen.push({ href: c.href, outputBase: c.outputBase, base: c.base });
          return c.kind === 'base' && c.uri.startsWith('https:') ? 'proxy/T1/' : c.uri;
        },
      },
    );
    expect(seen).toEqual([
      { href: 'https://cdn2.test/v/', base: BASE, outputBase: 'http://proxy.invalid/strm/stream?x=1' },
      { href: 'https://cdn2.test/v/p1/', base: 'https://cdn2.test/v/', outputBase: 'http://proxy.invalid/strm/proxy/T1/' },
      { href: 'https://cdn2.test/v/p1/$Number$.m4s', base: 'https://cdn2.test/v/p1/', outputBase: 'http://proxy.invalid/strm/proxy/T1/p1/' },
    ]);
  });

  it('a second BaseURL is an alternative: it resolves against the same parent base and does not change the base', () => {
    const hrefs: string[] = [];
    rewriteManifest(`<MPD ${NS}><Period><BaseURL>a/</BaseURL><BaseURL>b/</BaseURL><SegmentURL media="s"/></Period></MPD>`, { baseUrl: BASE, rewriteUrl: (c) => (hrefs.push(c.href), c.uri) });
    expect(hrefs).toEqual(['https://cdn.test/show/a/', 'https://cdn.test/show/b/', 'https://cdn.test/show/a/s']);
  });

  it('a BaseURL applies to its parent\'s descendants only', () => {
    const hrefs: string[] = [];
    rewriteManifest(`<MPD ${NS}><Period><BaseURL>a/</BaseURL></Period><Period><SegmentURL media="s"/></Period></MPD>`, { baseUrl: BASE, rewriteUrl: (c) => (hrefs.push(c.href), c.uri) });
    expect(hrefs).toEqual(['https://cdn.test/show/a/', 'https://cdn.test/show/s']);
  });
});

describe('errors', () => {
  it.each([
    ['', 'DASH_NOT_A_MANIFEST'],
    ['#EXTM3U\n', 'DASH_NOT_A_MANIFEST'],
    ['<html><body/></html>', 'DASH_NOT_A_MANIFEST'],
    ['<x:MPD xmlns:x="urn:other"/>', 'DASH_NOT_A_MANIFEST'],
    ['<?xml version="1.0"?>', 'DASH_NOT_A_MANIFEST'],
    ['<MPD><Period></MPD>', 'DASH_MALFORMED'],
    ['<MPD></MPD><MPD/>', 'DASH_MALFORMED'],
    ['<MPD></MPD>text', 'DASH_MALFORMED'],
    ['<MPD a="1></MPD>', 'DASH_TRUNCATED'],
    ['<MPD a=1></MPD>', 'DASH_MALFORMED'],
    ['<MPD><Period>', 'DASH_TRUNCATED'],
    ['<MPD><!-- never closed', 'DASH_TRUNCATED'],
    ['<MPD>\u0000</MPD>', 'DASH_INVALID_TEXT'],
    ['<MPD>\ud800</MPD>', 'DASH_INVALID_TEXT'],
  ])('rewriteManifest(%j) throws %s', (input, code) => {
    expect(codeOf(() => rewriteManifest(input, { baseUrl: BASE, rewriteUrl: proxyCallback }))).toBe(code);
  });

  it('invalid UTF-8 is DASH_INVALID_TEXT; input that ends inside a UTF-8 sequence is DASH_TRUNCATED', () => {
    const rewriter = new ManifestRewriter({ baseUrl: BASE, rewriteUrl: proxyCallback });
    expect(codeOf(() => rewriter.push(Uint8Array.of(0x3c, 0xff)))).toBe('DASH_INVALID_TEXT');
    const cut = new ManifestRewriter({ baseUrl: BASE, rewriteUrl: proxyCallback });
    cut.push(new TextEncoder().encode('<MPD></MPD>\u00e9').subarray(0, 12));
    expect(codeOf(() => cut.end())).toBe('DASH_TRUNCATED');
  });

  it('a piece of markup over maxElementLength is DASH_ELEMENT_TOO_LARGE, even when it never ends', () => {
    const options = { baseUrl: BASE, rewriteUrl: proxyCallback, maxElementLength: 100 };
    expect(codeOf(() => rewriteManifest(`<MPD><!--${'x'.repeat(200)}--></MPD>`, options))).toBe('DASH_ELEMENT_TOO_LARGE');
    expect(codeOf(() => rewriteManifest(`<MPD><BaseURL>${'x'.repeat(200)}</BaseURL></MPD>`, options))).toBe('DASH_ELEMENT_TOO_LARGE');
    const rewriter = new ManifestRewriter(options);
    rewriter.push(new TextEncoder().encode('<MPD><SegmentURL media="'));
    expect(codeOf(() => rewriter.push(new TextEncoder().encode('y'.repeat(200))))).toBe('DASH_ELEMENT_TOO_LARGE');
    // Text outside URL elements flows through, whatever its length.
    expect(rewriteManifest(`<MPD>${'t'.repeat(500)}</MPD>`, options).text).toHaveLength(511);
  });

  it('invalid options are a TypeError naming the option', () => {
    expect(() => new ManifestRewriter({ baseUrl: 'manifest.mpd', rewriteUrl: identity })).toThrow(/options\.baseUrl/);
    expect(() => new ManifestRewriter({ baseUrl: 'ftp://x/m.mpd', rewriteUrl: identity })).toThrow(/options\.baseUrl/);
    expect(() => new ManifestRewriter({ baseUrl: BASE, rewriteUrl: 'x' as never })).toThrow(/options\.rewriteUrl/);
    expect(() => new ManifestRewriter({ baseUrl: BASE, rewriteUrl: identity, maxElementLength: 3 })).toThrow(/maxElementLength/);
    expect(() => rewriteManifest(`<MPD><BaseURL>a</BaseURL></MPD>`, { baseUrl: BASE, rewriteUrl: () => 1 as never })).toThrow(TypeError);
  });

  it('errors thrown by the callback pass through unchanged', () => {
    const failure = new Error('callback');
    expect(() => rewriteManifest(`<MPD><BaseURL>a/</BaseURL></MPD>`, { baseUrl: BASE, rewriteUrl: () => { throw failure; } })).toThrow(failure);
  });
});

describe('what is kept', () => {
  it.each([
    ['UTCTiming', `<UTCTiming schemeIdUri="urn:mpeg:dash:utc:http-xsdate:2014" value="https://time.test/?iso"/>`],
    ['a foreign namespace', `<x:BaseURL xmlns:x="urn:other">https://a.test/</x:BaseURL>`],
    ['an AdaptationSet bitstreamSwitching flag', `<AdaptationSet bitstreamSwitching="true"/>`],
    ['a SegmentTemplate bitstreamSwitching flag', `<SegmentTemplate bitstreamSwitching="true"/>`],
    ['SegmentURL mediaRange', `<SegmentURL mediaRange="0-99"/>`],
    ['a DOCTYPE, PIs and comments', `<!-- <BaseURL>https://a.test/</BaseURL> --><?x <BaseURL>?>`],
  ])('%s', (_name, markup) => {
    const input = `<?xml version="1.0"?>\n<MPD ${NS}>${markup}</MPD>\n`;
    const { text, stats } = rewriteManifest(input, { baseUrl: BASE, rewriteUrl: proxyCallback });
    expect(text).toBe(input);
    expect(stats.urls).toBe(0);
  });

  it('a BOM, a DOCTYPE with an internal subset, CRLF line endings and attribute order', () => {
    const input = `\uFEFF<?xml version="1.0"?>\r\n<!DOCTYPE MPD [ <!ENTITY x "y"> ]>\r\n<MPD  b="2"\r\n a='1' ${NS}>\r\n<SegmentURL index="i" media="m"/>\r\n</MPD>`;
    const { text } = rewriteManifest(input, { baseUrl: BASE, rewriteUrl: ({ kind }) => kind });
    expect(text).toBe(input.replace('index="i" media="m"', 'index="index" media="segment"'));
  });

  it('stats count URLs by element and attribute, and line numbers are 1-based', () => {
    const lines: number[] = [];
    const { stats } = rewriteManifest(`<MPD ${NS}>\n<BaseURL>a/</BaseURL>\n<SegmentTemplate media="m" index="i"/>\n</MPD>`, {
      baseUrl: BASE,
      rewriteUrl: (c) => (lines.push(c.lineNumber), c.uri),
    });
    expect(stats).toEqual({ urls: 3, byElement: { BaseURL: 1, 'SegmentTemplate@media': 1, 'SegmentTemplate@index': 1 }, skipped: 0, warnings: [] });
    expect(lines).toEqual([2, 3, 3]);
  });
});
