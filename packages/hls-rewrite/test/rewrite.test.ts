import { describe, expect, it } from 'vitest';
import { HlsRewriteError, PlaylistRewriter, rewritePlaylist, type UriContext } from '../src/index';
import { identity } from './helpers';

const BASE = 'https://cdn.test/show/s1/index.m3u8?token=abc';

/** Rewrites with a callback that records every context and marks each URI as `<kind>:<absolute URL>`. */
function run(text: string, baseUrl = BASE) {
  const seen: UriContext[] = [];
  const result = rewritePlaylist(text, {
    baseUrl,
    rewriteUri: (context) => {
      seen.push(context);
      return `P(${context.kind}:${context.url!.href})`;
    },
  });
  return { ...result, seen };
}

function codeOf(action: () => unknown): string | undefined {
  try {
    action();
  } catch (error) {
    if (error instanceof HlsRewriteError) return error.code;
    throw error;
  }
  return undefined;
}

describe('URI resolution against the final URL (RFC 3986)', () => {
  it.each([
    ['seg.ts', 'https://cdn.test/show/s1/seg.ts'],
    ['../a/seg.ts', 'https://cdn.test/show/a/seg.ts'],
    ['/root/seg.ts', 'https://cdn.test/root/seg.ts'],
    ['//other.test/seg.ts', 'https://other.test/seg.ts'],
    ['?only=query', 'https://cdn.test/show/s1/index.m3u8?only=query'],
    ['http://abs.test/x/seg.ts', 'http://abs.test/x/seg.ts'],
    ['seg.ts?sig=a+b%2Fc==&n=1', 'https://cdn.test/show/s1/seg.ts?sig=a+b%2Fc==&n=1'],
    ['seg.ts?title=Überraschung&e=✓', 'https://cdn.test/show/s1/seg.ts?title=%C3%9Cberraschung&e=%E2%9C%93'],
    ['seg 1.ts', 'https://cdn.test/show/s1/seg%201.ts'],
  ])('rewritePlaylist("#EXTM3U\\n%s") resolves to %s', (uri, href) => {
    const { seen, text } = run(`#EXTM3U\n#EXTINF:4,\n${uri}\n`);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ uri, tag: undefined, attribute: undefined, kind: 'segment', lineNumber: 3 });
    expect(seen[0]!.url!.href).toBe(href);
    expect(text).toBe(`#EXTM3U\n#EXTINF:4,\nP(segment:${href})\n`);
  });

  it.each([
    ['data:text/plain;base64,AAAA'],
    ['skd://key-id'],
    ['ftp://files.test/key'],
  ])('a %s key URI is kept as it is and never reaches the callback', (uri) => {
    const input = `#EXTM3U\n#EXT-X-KEY:METHOD=SAMPLE-AES,URI="${uri}"\n`;
    const { text, seen, stats } = run(input);
    expect(text).toBe(input);
    expect(seen).toHaveLength(0);
    expect(stats.skipped).toBe(1);
  });

  it('a URI that does not parse is kept and reported', () => {
    const input = '#EXTM3U\n#EXTINF:4,\nhttp://[broken/seg.ts\n';
    const { text, stats } = run(input);
    expect(text).toBe(input);
    expect(stats.skipped).toBe(1);
    expect(stats.warnings[0]).toMatch(/line 3: "http:\/\/\[broken\/seg.ts" is not a valid URI reference/);
  });

  it('EXT-X-DEFINE variables are substituted before resolution, the text keeps the reference', () => {
    const { seen } = run('#EXTM3U\n#EXT-X-DEFINE:NAME="host",VALUE="https://b.test"\n#EXTINF:4,\n{$host}/seg.ts\n');
    expect(seen[0]).toMatchObject({ uri: '{$host}/seg.ts' });
    expect(seen[0]!.url!.href).toBe('https://b.test/seg.ts');
  });

  it('EXT-X-DEFINE QUERYPARAM reads the base URL query (the upstream URL), and its line is left out of the output', () => {
    const { seen, stats, text } = run('#EXTM3U\n#EXT-X-DEFINE:QUERYPARAM="token"\n#EXTINF:4,\nseg.ts?t={$token}\n');
    expect(seen[0]!.url!.href).toBe('https://cdn.test/show/s1/seg.ts?t=abc');
    expect(stats.warnings).toEqual([]);
    expect(text).toBe('#EXTM3U\n#EXTINF:4,\nP(segment:https://cdn.test/show/s1/seg.ts?t=abc)\n');
  });
});

describe('what is rewritten', () => {
  it('every URI attribute of a line, not just the first, and nothing else on it', () => {
    const line = '#EXT-X-DATERANGE:ID="a,b",X-ASSET-LIST="list.json",X-URI="ad.m3u8",X-OTHER-URI="keep.m3u8"';
    const { text, seen } = run(`#EXTM3U\n${line}\n`);
    expect(seen.map((c) => [c.attribute, c.kind])).toEqual([
      ['X-ASSET-LIST', 'data'],
      ['X-URI', 'playlist'],
    ]);
    expect(text).toBe(
      '#EXTM3U\n#EXT-X-DATERANGE:ID="a,b",X-ASSET-LIST="P(data:https://cdn.test/show/s1/list.json)",' +
        'X-URI="P(playlist:https://cdn.test/show/s1/ad.m3u8)",X-OTHER-URI="keep.m3u8"\n',
    );
  });

  it.each([
    ['#EXT-X-KEY:METHOD=AES-128,SERVER-URI="s.key",URI="k.key"', 'URI', 'k.key'],
    ['#EXT-X-CONTENT-STEERING:URI="nope.json",SERVER-URI="steer.json"', 'SERVER-URI', 'steer.json'],
    ['#EXT-X-KEY:METHOD=AES-128,XURI="x.key",URI="k,1.key"', 'URI', 'k,1.key'],
  ])('names match exactly: %s rewrites only %s', (line, attribute, uri) => {
    const { seen } = run(`#EXTM3U\n${line}\n`);
    expect(seen.map((c) => [c.attribute, c.uri])).toEqual([[attribute, uri]]);
  });

  it.each([
    ['#EXT-X-UNKNOWN:URI="a.ts"'],
    ['#EXT-X-KEY:METHOD=AES-128,uri="lower.key"'],
    ['# a comment with URI="c.ts"'],
    ['#EXT-X-SESSION-DATA:DATA-ID="t",VALUE="x,URI=y.json"'],
    ['#EXTINF:4,title with URI="x"'],
  ])('%s is kept as it is', (line) => {
    const input = `#EXTM3U\n${line}\n`;
    expect(run(input).text).toBe(input);
  });

  it('an unquoted URI value is rewritten in place', () => {
    expect(run('#EXTM3U\n#EXT-X-KEY:METHOD=AES-128,URI=k.key,IV=0x1\n').text).toBe(
      '#EXTM3U\n#EXT-X-KEY:METHOD=AES-128,URI=P(key:https://cdn.test/show/s1/k.key),IV=0x1\n',
    );
  });

  it('a quoted-string without its closing quote is kept, with a warning', () => {
    const input = '#EXTM3U\n#EXT-X-MAP:BYTERANGE="1@0",URI="init.mp4\n#EXTINF:4,\nseg.ts';
    const { text, stats } = run(input);
    expect(text).toBe('#EXTM3U\n#EXT-X-MAP:BYTERANGE="1@0",URI="init.mp4\n#EXTINF:4,\nP(segment:https://cdn.test/show/s1/seg.ts)');
    expect(stats.warnings[0]).toMatch(/line 2: EXT-X-MAP has a quoted-string without its closing quote/);
  });

  it('EXT-X-PRELOAD-HINT takes its kind from TYPE, wherever TYPE stands', () => {
    const { seen, stats } = run(
      '#EXTM3U\n#EXT-X-PRELOAD-HINT:URI="i.mp4",TYPE=MAP\n#EXT-X-PRELOAD-HINT:TYPE=PART,URI="p.m4s"\n#EXT-X-PRELOAD-HINT:TYPE=X,URI="x"\n',
    );
    expect(seen.map((c) => c.kind)).toEqual(['map', 'segment', 'segment']);
    expect(stats.warnings).toEqual(['line 4: EXT-X-PRELOAD-HINT TYPE "X" is neither PART nor MAP; its URI is treated as a segment']);
  });

  it('disguised segments (.jpg, .png, none) are segments; .txt children of a master are playlists', () => {
    const media = run('#EXTM3U\n#EXTINF:4,\na.jpg\n#EXTINF:4,\nb.png\n#EXTINF:4,\nc\n');
    expect(media.seen.map((c) => c.kind)).toEqual(['segment', 'segment', 'segment']);
    const master = run('#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nlow.txt\n#EXT-X-STREAM-INF:BANDWIDTH=2\nhigh.txt?x=1\n');
    expect(master.seen.map((c) => [c.kind, c.isMaster])).toEqual([
      ['playlist', true],
      ['playlist', true],
    ]);
  });

  it('hasMap turns true at the first EXT-X-MAP, lineNumber counts every line', () => {
    const { seen } = run('#EXTM3U\n#EXTINF:4,\na.ts\n#EXT-X-MAP:URI="i.mp4"\n\n#EXTINF:4,\nb.m4s\n');
    expect(seen.map((c) => [c.kind, c.hasMap, c.lineNumber, c.tag ?? 'line'])).toEqual([
      ['segment', false, 3, 'line'],
      ['map', true, 4, 'EXT-X-MAP'],
      ['segment', true, 7, 'line'],
    ]);
  });

  it('EXT-X-PREFETCH (LHLS) takes its whole value as a segment URI', () => {
    expect(run('#EXTM3U\n#EXT-X-PREFETCH:next.ts\n').text).toBe('#EXTM3U\n#EXT-X-PREFETCH:P(segment:https://cdn.test/show/s1/next.ts)\n');
  });
});

describe('kept byte for byte', () => {
  it('CRLF and LF per line, comments, blank lines, surrounding whitespace and a missing final newline', () => {
    const input = '#EXTM3U\r\n# comment\n\r\n#EXTINF:4,\r\n  seg.ts \r\n\n#EXTINF:4,\nlast.ts';
    expect(run(input).text).toBe(
      '#EXTM3U\r\n# comment\n\r\n#EXTINF:4,\r\n  P(segment:https://cdn.test/show/s1/seg.ts) \r\n\n#EXTINF:4,\nP(segment:https://cdn.test/show/s1/last.ts)',
    );
  });

  it('a leading BOM is dropped, nothing else', () => {
    expect(run('\uFEFF#EXTM3U\n#EXT-X-ENDLIST\n').text).toBe('#EXTM3U\n#EXT-X-ENDLIST\n');
  });

  it('whitespace before #EXTM3U is dropped with a warning, and line numbers still count it', () => {
    const { text, stats, seen } = run('\n  \n#EXTM3U\nseg.ts\n');
    expect(text).toBe('#EXTM3U\nP(segment:https://cdn.test/show/s1/seg.ts)\n');
    expect(seen[0]!.lineNumber).toBe(4);
    expect(stats.warnings).toEqual(['whitespace before #EXTM3U was dropped (players expect #EXTM3U first)']);
  });

  it('stats count URIs by tag, skipped URIs and lines', () => {
    const { stats } = run('#EXTM3U\n#EXT-X-KEY:METHOD=AES-128,URI="k"\n#EXT-X-KEY:METHOD=SAMPLE-AES,URI="skd://x"\n#EXTINF:4,\na.ts\n#EXTINF:4,\nb.ts');
    expect(stats).toEqual({ uris: 3, byTag: { 'EXT-X-KEY': 1, 'URI-LINE': 2 }, skipped: 1, warnings: [], lines: 7 });
  });
});

describe('bad input is an HlsRewriteError with a code', () => {
  const options = { baseUrl: BASE, rewriteUri: identity };
  it.each([
    ['<html><body>403</body></html>', 'HLS_NOT_A_PLAYLIST'],
    ['', 'HLS_NOT_A_PLAYLIST'],
    ['   \n', 'HLS_NOT_A_PLAYLIST'],
    ['#EXTM3', 'HLS_TRUNCATED'],
    ['#EXT-X-VERSION:3\n#EXTM3U\n', 'HLS_NOT_A_PLAYLIST'],
    ['\uFEFF\uFEFF#EXTM3U\n', 'HLS_NOT_A_PLAYLIST'],
    ['#EXTM3U\nseg\u0000.ts\n', 'HLS_INVALID_TEXT'],
    ['#EXTM3U\nseg\uD800.ts\n', 'HLS_INVALID_TEXT'],
    [`#EXTM3U\n${'a'.repeat(101)}\n`, 'HLS_LINE_TOO_LONG'],
  ])('rewritePlaylist(%j) fails with %s', (input, code) => {
    expect(codeOf(() => rewritePlaylist(input, { ...options, maxLineLength: 100 }))).toBe(code);
  });

  it('a line of exactly maxLineLength characters is accepted', () => {
    const input = `#EXTM3U\n${'a'.repeat(100)}\r\n`;
    expect(rewritePlaylist(input, { ...options, maxLineLength: 100 }).text).toBe(input);
  });

  it.each([
    [[0x23, 0x45, 0x58, 0x54, 0x4d, 0x33, 0x55, 0x0a, 0xff, 0x0a], 'HLS_INVALID_TEXT'],
    [[0x23, 0x45, 0x58, 0x54, 0x4d, 0x33, 0x55, 0x0a, 0x61, 0xc3], 'HLS_TRUNCATED'],
    [[0x47, 0x40, 0x11, 0x10, 0x00], 'HLS_INVALID_TEXT'],
    [[0x89, 0x50, 0x4e, 0x47], 'HLS_INVALID_TEXT'],
    [[0x49, 0x44, 0x33, 0x20], 'HLS_NOT_A_PLAYLIST'],
  ])('PlaylistRewriter bytes %j fail with %s', (bytes, code) => {
    const rewriter = new PlaylistRewriter(options);
    expect(codeOf(() => rewriter.push(Uint8Array.from(bytes)) + rewriter.end())).toBe(code);
  });

  it('the stream refuses a long line as soon as the buffered part passes the limit, without waiting for its end', () => {
    const rewriter = new PlaylistRewriter({ ...options, maxLineLength: 1000 });
    rewriter.push(new TextEncoder().encode('#EXTM3U\n'));
    rewriter.push(new Uint8Array(600).fill(0x61));
    expect(codeOf(() => rewriter.push(new Uint8Array(600).fill(0x61)))).toBe('HLS_LINE_TOO_LONG');
    expect(() => rewriter.push(new Uint8Array(1))).toThrow(TypeError);
  });

  it('messages say what was expected and quote what was received', () => {
    expect(() => rewritePlaylist('<!DOCTYPE html><html>', options)).toThrow(
      'not an HLS playlist: expected #EXTM3U as the first line (RFC 8216bis 4.4.1.1), received "<!DOCTYPE html><html>"',
    );
  });
});

describe('misuse is a TypeError', () => {
  it.each([
    [{ baseUrl: 'not a url', rewriteUri: identity }, /options.baseUrl must be an absolute http\(s\) URL/],
    [{ baseUrl: 'file:///tmp/a.m3u8', rewriteUri: identity }, /options.baseUrl must be an http\(s\) URL/],
    [{ baseUrl: BASE, rewriteUri: 'x' }, /options.rewriteUri must be a function/],
    [{ baseUrl: BASE, rewriteUri: identity, maxLineLength: 0 }, /options.maxLineLength must be a positive integer/],
  ])('rewritePlaylist with %j', (options, message) => {
    expect(() => rewritePlaylist('#EXTM3U\n', options as never)).toThrow(message);
  });

  it.each([
    ['#EXTM3U\n#EXT-X-KEY:URI="k"\n', 'a"b', /double quote inside a quoted-string/],
    ['#EXTM3U\nseg.ts\n', 'a\nb', /no CR or LF/],
    ['#EXTM3U\n#EXT-X-KEY:URI=k\n', 'a,b', /comma in an unquoted attribute/],
  ])('a replacement that would break the line: %j → %j', (input, replacement, message) => {
    expect(() => rewritePlaylist(input, { baseUrl: BASE, rewriteUri: () => replacement })).toThrow(message);
  });

  it('errors of the callback pass through unchanged', () => {
    const failure = new RangeError('token store full');
    expect(() =>
      rewritePlaylist('#EXTM3U\nseg.ts\n', {
        baseUrl: BASE,
        rewriteUri: () => {
          throw failure;
        },
      }),
    ).toThrow(failure);
  });
});
