// EXT-X-DEFINE (RFC 8216bis 4.4.2.3) and variable substitution (4.3, 6.3.1) beyond the golden
// fixtures: what the callback learns, the imports option, line endings, non-http URIs.
import { describe, expect, it } from 'vitest';
import { rewritePlaylist, type UriContext } from '../src/index';
import { cut, throughTransform } from './helpers';

const BASE = 'https://cdn.test/show/master.m3u8?auth=t0k%2Fen';
const mark = ({ kind, href }: UriContext) => `P(${kind}:${href})`;

describe('variables', () => {
  it('context.variables holds the variables defined so far, in order, resolved', () => {
    const seen: Array<Record<string, string> | undefined> = [];
    rewritePlaylist('#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\na.m3u8\n#EXT-X-DEFINE:QUERYPARAM="auth"\n#EXT-X-DEFINE:NAME="v",VALUE="{$auth}-1"\n#EXT-X-STREAM-INF:BANDWIDTH=2\nb.m3u8\n', {
      baseUrl: BASE,
      rewriteUri: (context) => {
        seen.push(context.variables && Object.fromEntries(context.variables));
        return context.uri;
      },
    });
    expect(seen).toEqual([undefined, { auth: 't0k/en', v: 't0k/en-1' }]);
  });

  it('imports may be a Map or a record; an IMPORT line is left out with its CRLF, the others keep theirs', () => {
    const input = '#EXTM3U\r\n#EXT-X-DEFINE:IMPORT="auth"\r\n#EXTINF:4,\r\nseg.ts?a={$auth}\r\n';
    const expected = '#EXTM3U\r\n#EXTINF:4,\r\nP(segment:https://cdn.test/show/seg.ts?a=x%20y)\r\n';
    expect(rewritePlaylist(input, { baseUrl: BASE, imports: new Map([['auth', 'x y']]), rewriteUri: mark }).text).toBe(expected);
    expect(rewritePlaylist(input, { baseUrl: BASE, imports: { auth: 'x y' }, rewriteUri: mark }).text).toBe(expected);
  });

  it('a dropped define that is the last line, without a newline, leaves nothing behind', () => {
    expect(rewritePlaylist('#EXTM3U\n#EXT-X-DEFINE:QUERYPARAM="auth"', { baseUrl: BASE, rewriteUri: mark }).text).toBe('#EXTM3U\n');
  });

  it('a URI of another scheme keeps its text, with its variables substituted (their IMPORT line is gone)', () => {
    const { text, stats } = rewritePlaylist('#EXTM3U\n#EXT-X-DEFINE:IMPORT="kid"\n#EXT-X-KEY:METHOD=SAMPLE-AES,URI="skd://{$kid}",KEYFORMAT="com.apple.streamingkeydelivery"\n', {
      baseUrl: BASE,
      imports: { kid: 'key-7' },
      rewriteUri: mark,
    });
    expect(text).toBe('#EXTM3U\n#EXT-X-KEY:METHOD=SAMPLE-AES,URI="skd://key-7",KEYFORMAT="com.apple.streamingkeydelivery"\n');
    expect(stats.skipped).toBe(1);
  });

  it('references in tags the table does not know are substituted too (quoted-strings and hexadecimal-sequences only)', () => {
    const { text } = rewritePlaylist('#EXTM3U\n#EXT-X-DEFINE:NAME="n",VALUE="7"\n#EXT-X-X-CUSTOM:A="{$n}",B={$n},C=0x{$n}\n#EXTINF:4,{$n}\n', { baseUrl: BASE, rewriteUri: mark });
    expect(text).toBe('#EXTM3U\n#EXT-X-DEFINE:NAME="n",VALUE="7"\n#EXT-X-X-CUSTOM:A="7",B={$n},C=0x7\n#EXTINF:4,{$n}\n');
  });

  it('the stream gives the same output, cut anywhere (inside a define, a reference, a CRLF)', async () => {
    const input = '#EXTM3U\r\n#EXT-X-DEFINE:QUERYPARAM="auth"\r\n#EXT-X-DEFINE:NAME="h",VALUE="https://b.test"\r\n#EXT-X-KEY:METHOD=AES-128,URI="{$h}/k",IV=0x{$auth}\r\n#EXTINF:4,\r\n{$h}/s.ts?{$auth}\r\n';
    const baseUrl = 'https://cdn.test/a.m3u8?auth=00ff';
    const expected = rewritePlaylist(input, { baseUrl, rewriteUri: mark }).text;
    expect(expected).toBe('#EXTM3U\r\n#EXT-X-DEFINE:NAME="h",VALUE="https://b.test"\r\n#EXT-X-KEY:METHOD=AES-128,URI="P(key:https://b.test/k)",IV=0x00ff\r\n#EXTINF:4,\r\nP(segment:https://b.test/s.ts?00ff)\r\n');
    for (const size of [1, 2, 3, 5, 11]) {
      expect((await throughTransform(cut(Buffer.from(input), size), { baseUrl, rewriteUri: mark })).toString()).toBe(expected);
    }
  });

  it.each<[string, unknown]>([
    ['a name with a dot', { 'a.b': 'x' }],
    ['a value with a double quote', { a: 'x"y' }],
    ['a number', 42],
  ])('imports with %s is a TypeError', (_, imports) => {
    expect(() => rewritePlaylist('#EXTM3U\n', { baseUrl: BASE, imports: imports as Record<string, string>, rewriteUri: mark })).toThrow(TypeError);
  });
});

describe('sequenceNumber: the segment a URI belongs to (RFC 8216bis 4.4.3.2)', () => {
  const numbers = (text: string) => {
    const seen: Array<[string, number | undefined]> = [];
    rewritePlaylist(text, { baseUrl: BASE, rewriteUri: (context) => (seen.push([context.uri, context.sequenceNumber]), context.uri) });
    return seen;
  };

  it('counts from EXT-X-MEDIA-SEQUENCE; a tag belongs to the segment whose URI line follows', () => {
    expect(numbers('#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:1040\n#EXT-X-MAP:URI="init.mp4"\n#EXTINF:6,\ns1040.m4s\n#EXT-X-KEY:METHOD=AES-128,URI="k.key"\n#EXTINF:6,\ns1041.m4s\n#EXT-X-PART:DURATION=1,URI="p1042.0.m4s"\n#EXT-X-PRELOAD-HINT:TYPE=PART,URI="p1042.1.m4s"\n')).toEqual([
      ['init.mp4', 1040], ['s1040.m4s', 1040], ['k.key', 1041], ['s1041.m4s', 1041], ['p1042.0.m4s', 1042], ['p1042.1.m4s', 1042],
    ]);
  });

  it('starts at 0 without EXT-X-MEDIA-SEQUENCE, counts the segments an EXT-X-SKIP stands for, and is undefined in a multivariant playlist', () => {
    expect(numbers('#EXTM3U\n#EXTINF:6,\na.ts\n#EXTINF:6,\nb.ts\n')).toEqual([['a.ts', 0], ['b.ts', 1]]);
    expect(numbers('#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:100\n#EXT-X-SKIP:SKIPPED-SEGMENTS=3\n#EXTINF:6,\nd.ts\n')).toEqual([['d.ts', 103]]);
    expect(numbers('#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nv.m3u8\n')).toEqual([['v.m3u8', undefined]]);
  });
});
