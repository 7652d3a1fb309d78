import { describe, expect, it } from 'vitest';
import { ProxyError } from '../src/errors';
import { relativeReference } from '../src/respond-mpd';
import { parseSealedPath, resolveSealedPath } from '../src/sealed-path';

const DIRECTORY = 'https://cdn.test/show/e01/';

describe('sealed paths', () => {
  it.each([
    ['/strm/proxy/T0k-en_/720p/seg-00042.m4s?x=1', { token: 'T0k-en_', rest: '720p/seg-00042.m4s', query: '?x=1' }],
    ['/strm/proxy/T/seg.m4s', { token: 'T', rest: 'seg.m4s', query: '' }],
    ['/strm/proxy/T/', { token: 'T', rest: '', query: '' }],
    ['/strm/proxy/T', undefined],
    ['/strm/proxy//x', undefined],
    ['/strm/proxy/a%2Fb/x', undefined],
    ['/strm/stream?x', undefined],
  ])('parseSealedPath(%j)', (target, expected) => {
    expect(parseSealedPath(target)).toEqual(expected);
  });

  it.each([
    ['720p/seg-00042.m4s', '', undefined, 'https://cdn.test/show/e01/720p/seg-00042.m4s'],
    ['seg.m4s', '?player=1', undefined, 'https://cdn.test/show/e01/seg.m4s?player=1'],
    ['seg.m4s', '?player=1', '?token=sealed', 'https://cdn.test/show/e01/seg.m4s?token=sealed&player=1'],
    ['seg.m4s', '', '?token=sealed', 'https://cdn.test/show/e01/seg.m4s?token=sealed'],
    ['a%20b.m4s', '', undefined, 'https://cdn.test/show/e01/a%20b.m4s'],
    ['', '', undefined, 'https://cdn.test/show/e01/'],
  ])('resolveSealedPath(directory, %j, %j, %j) is %j', (rest, query, sealedQuery, expected) => {
    expect(resolveSealedPath(DIRECTORY, rest, query, sealedQuery)).toBe(expected);
  });

  it.each(['../x', 'a/../../x', '%2e%2e/x', '.%2E/x', 'a/./b', '/x', '//evil.test/x', 'http://evil.test/', 'http:x', 'a%2fb', 'a%2Fb', 'a\\b', 'a%5Cb', 'a b', 'a#b', 'a\u0000'])(
    'resolveSealedPath(directory, %j) is refused with STRM_BAD_PROXY_PATH',
    (rest) => {
      let error: unknown;
      try {
        resolveSealedPath(DIRECTORY, rest, '', undefined);
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(ProxyError);
      expect((error as ProxyError).code).toBe('STRM_BAD_PROXY_PATH');
      expect((error as ProxyError).status).toBe(400);
    },
  );
});

describe('relativeReference', () => {
  it.each([
    ['http://p.invalid/strm/stream', 'http://p.invalid/strm/proxy/T/', 'proxy/T/'],
    ['http://p.invalid/strm/proxy/T1/', 'http://p.invalid/strm/proxy/T2/$Number$.m4s', '../T2/$Number$.m4s'],
    ['http://p.invalid/strm/proxy/T1/a/b/', 'http://p.invalid/strm/proxy/T2/x', '../../../T2/x'],
    ['http://p.invalid/strm/proxy/T1/manifest.mpd', 'http://p.invalid/strm/proxy/T1/x?q=1', 'x?q=1'],
    ['http://p.invalid/strm/proxy/T1/', 'http://p.invalid/strm/proxy/T1/', './'],
  ])('relativeReference(%j, %j) is %j', (from, to, expected) => {
    expect(relativeReference(new URL(from), new URL(to))).toBe(expected);
    expect(new URL(expected, from).href).toBe(to);
  });
});
