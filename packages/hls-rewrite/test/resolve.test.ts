import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { rewritePlaylist, type UriContext } from '../src/index';
import { isNormalizedHttpUrl, isPlainRelativeReference } from '../src/resolve';

const BASES = ['https://cdn.test/a/b/index.m3u8?t=1#f', 'http://user:pw@CDN.test:80/x.m3u8', 'https://cdn.test', 'https://cdn.test/dir/'];

describe('the fast path of URI resolution', () => {
  it.each([
    ['seg-001.ts?token=a+b%2F==&x=1', true],
    ['a/b/c.m4s', true],
    ['v1.0/seg.ts', true],
    ['..a/seg.ts', true],
    ['../seg.ts', false],
    ['./seg.ts', false],
    ['a/./b.ts', false],
    ['a/..', false],
    ['/root.ts', false],
    ['?q=1', false],
    ['//host/x', false],
    ['https://h/x', false],
    ['seg.ts#frag', false],
    ['seg%20a.ts', false],
    ['seg a.ts', false],
    ["seg.ts?q='x'", false],
    ['séq.ts', false],
    ['a\\b.ts', false],
  ])('isPlainRelativeReference(%j) → %s', (reference, expected) => {
    expect(isPlainRelativeReference(reference)).toBe(expected);
  });

  it('gives exactly what new URL(reference, base).href gives, for any reference it accepts', () => {
    const unit = fc.constantFrom(...'aZ09-._~!$&\'()*+,;=:@/?%#[]\\ {}|^`"<>é'.split(''), '..', './', '%2e', '%2E', '%41');
    fc.assert(
      fc.property(fc.string({ unit, minLength: 1, maxLength: 20 }), fc.constantFrom(...BASES), (reference, base) => {
        if (!isPlainRelativeReference(reference)) return;
        expect(new URL('./', base).href + reference).toBe(new URL(reference, base).href);
      }),
      { numRuns: 5000 },
    );
  });

  it.each([
    ['https://cdn.test/hls/seg-1.ts?token=abc&e=1', true],
    ['http://cdn-2.test:8080/a/b.m4s', true],
    ['https://cdn.test/', true],
    ['https://cdn.test', false],
    ['HTTPS://cdn.test/a.ts', false],
    ['https://CDN.test/a.ts', false],
    ['https://cdn.test:443/a.ts', false],
    ['http://cdn.test:80/a.ts', false],
    ['http://cdn.test:080/a.ts', false],
    ['https://127.1/a.ts', false],
    ['https://1.2.3.4/a.ts', false],
    ['https://user@cdn.test/a.ts', false],
    ['https://cdn.test/a/../b.ts', false],
    ['https://cdn.test/a.ts#f', false],
    ['https://cdn..test/a.ts', false],
    ['https://cdn.test./a.ts', false],
    ['ftp://cdn.test/a.ts', false],
  ])('isNormalizedHttpUrl(%j) → %s', (reference, expected) => {
    expect(isNormalizedHttpUrl(reference)).toBe(expected);
  });

  it('an absolute URL it accepts is exactly what new URL(reference).href gives', () => {
    const host = fc.constantFrom('cdn.test', 'a-b.c0.test', 'x.1a', 'localhost', 'xn--bcher-kva.test', 'h.', '.h', 'H.test', '127.1', '0x7f.1', 'a.0', 'a..b');
    const port = fc.constantFrom('', ':80', ':443', ':8080', ':0', ':080', ':65535', ':65536', ':');
    const unit = fc.constantFrom(...'aZ09-._~!$&\'()*+,;=:@/?%#[]\\ {}|^`"<>é'.split(''), '..', './', '%2e', '%2E', '%41');
    fc.assert(
      fc.property(fc.constantFrom('http://', 'https://', 'HTTP://'), host, port, fc.string({ unit, maxLength: 20 }), (scheme, h, p, rest) => {
        const reference = `${scheme}${h}${p}/${rest}`;
        if (!isNormalizedHttpUrl(reference)) return;
        expect(new URL(reference).href).toBe(reference);
      }),
      { numRuns: 5000 },
    );
  });

  it('context.href always equals context.url.href', () => {
    const seen: UriContext[] = [];
    const uris = ['seg.ts?a=1', '../x/seg.ts', '/r.ts', '//h.test/s.ts', 'HTTPS://H.TEST:443/a/./b.ts', 'sé g.ts', '?q'];
    rewritePlaylist(`#EXTM3U\n${uris.join('\n')}\n`, {
      baseUrl: 'https://cdn.test/a/b/i.m3u8',
      rewriteUri: (context) => {
        seen.push(context);
        return 'x';
      },
    });
    expect(seen).toHaveLength(uris.length);
    for (const context of seen) expect(context.href).toBe(context.url!.href);
  });
});

describe('context.type: the TYPE attribute of the URI tag', () => {
  it('is SUBTITLES / AUDIO on EXT-X-MEDIA, PART on EXT-X-PRELOAD-HINT, undefined elsewhere', () => {
    const seen: Array<[string | undefined, string | undefined]> = [];
    rewritePlaylist(
      [
        '#EXTM3U',
        '#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="s",NAME="de",URI="subs/de.m3u8"',
        '#EXT-X-MEDIA:URI="audio/en.m3u8",TYPE=AUDIO,GROUP-ID="a",NAME="en"',
        '#EXT-X-PRELOAD-HINT:TYPE=PART,URI="part.mp4"',
        '#EXT-X-STREAM-INF:BANDWIDTH=1',
        'v.m3u8',
        '',
      ].join('\n'),
      {
        baseUrl: 'https://cdn.test/master.m3u8',
        rewriteUri: (context) => {
          seen.push([context.tag, context.type]);
          return context.uri;
        },
      },
    );
    expect(seen).toEqual([
      ['EXT-X-MEDIA', 'SUBTITLES'],
      ['EXT-X-MEDIA', 'AUDIO'],
      ['EXT-X-PRELOAD-HINT', 'PART'],
      [undefined, undefined],
    ]);
  });
});
