import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { rewritePlaylist, type UriContext } from '../src/index';
import { isPlainRelativeReference } from '../src/resolve';

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
