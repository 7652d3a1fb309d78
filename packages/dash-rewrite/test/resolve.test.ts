import { describe, expect, it } from 'vitest';
import { resolveHttpUrl, templateDirectory } from '../src/index';

describe('templateDirectory', () => {
  it.each([
    ['https://cdn.test/v/$RepresentationID$/seg-$Number%05d$.m4s', 'https://cdn.test/v/'],
    ['https://cdn.test/v/seg-$Time$.m4s?token=a/b', 'https://cdn.test/v/'],
    ['https://cdn.test/v/init.mp4?token=a/$b$', 'https://cdn.test/v/'],
    ['https://cdn.test/v/w/', 'https://cdn.test/v/w/'],
    ['https://cdn.test/$Number$.m4s', 'https://cdn.test/'],
    ['https://cdn.test', 'https://cdn.test/'],
    ['https://cdn.test?x=1', 'https://cdn.test/'],
    ['http://cdn.test:8080/a#frag/x', 'http://cdn.test:8080/'],
    ['https://cdn$Number$.test/a', undefined],
    ['ftp://cdn.test/a', undefined],
  ])('templateDirectory(%j) is %j', (href, expected) => {
    expect(templateDirectory(href)).toBe(expected);
  });
});

describe('resolveHttpUrl', () => {
  it.each([
    ['seg.m4s', 'https://cdn.test/a/b.mpd', 'https://cdn.test/a/seg.m4s'],
    ['../x/', 'https://cdn.test/a/b/', 'https://cdn.test/a/x/'],
    ['//other.test/p', 'https://cdn.test/a/', 'https://other.test/p'],
    ['$Number$.m4s', 'https://cdn.test/a/', 'https://cdn.test/a/$Number$.m4s'],
    ['urn:x:y', 'https://cdn.test/a/', undefined],
    ['data:,x', 'https://cdn.test/a/', undefined],
    ['http://[bad', 'https://cdn.test/a/', undefined],
  ])('resolveHttpUrl(%j, %j) is %j', (reference, base, expected) => {
    expect(resolveHttpUrl(reference, base)).toBe(expected);
  });
});

describe('the concatenation fast path', () => {
  it('gives what new URL gives, for any reference it accepts (property)', async () => {
    const fc = (await import('fast-check')).default;
    const { directoryOf, isPlainRelativePath } = await import('../src/resolve');
    const char = fc.constantFrom(...'aZ09-._~!$&\'()*+,;=:@/?%#[]{}|^` "<>\\'.split(''), 'é', '..', './', '%2e', '$Number$');
    const base = fc.constantFrom('https://cdn.test/a/b/m.mpd?x=1', 'http://cdn.test:8080/', 'https://cdn.test/a%20b/c/', 'https://cdn.test/x?y=/z');
    fc.assert(
      fc.property(fc.array(char, { maxLength: 12 }).map((parts) => parts.join('')), base, (reference, baseUrl) => {
        if (isPlainRelativePath(reference)) expect(directoryOf(new URL(baseUrl).href) + reference).toBe(new URL(reference, baseUrl).href);
      }),
      { numRuns: 3000 },
    );
  });
});
