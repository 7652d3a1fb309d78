import { describe, expect, it } from 'vitest';
import { HlsRewriteError, PlaylistRewriter, rewritePlaylist, type RewriteOptions, type UriContext } from '../src/index';
import { cut } from './helpers';

// The limits on the work one playlist may cause: each breach is an HlsRewriteError with its own
// code, thrown at the breach (the callback is not called again, the output is not built).

const BASE = 'https://cdn.test/show/index.m3u8';

/** Rewrites `text` with a callback that returns `replacement` and counts its calls; the error code, or 'ok'. */
function outcome(text: string, options: Partial<RewriteOptions> = {}, replacement = (context: UriContext) => context.uri) {
  let calls = 0;
  let longest = 0;
  try {
    rewritePlaylist(text, {
      baseUrl: BASE,
      rewriteUri: (context) => {
        calls++;
        longest = Math.max(longest, context.href.length);
        return replacement(context);
      },
      ...options,
    });
    return { code: 'ok', calls, longest };
  } catch (error) {
    if (!(error instanceof HlsRewriteError)) throw error;
    return { code: error.code, calls, longest, message: error.message };
  }
}

const MiB = 1024 * 1024;
const bigDefine = (references: number) => `#EXTM3U\n#EXT-X-DEFINE:NAME="v",VALUE="${'a'.repeat(MiB - 64)}"\n#EXTINF:4,\n${'{$v}'.repeat(references)}\n`;

describe('expanded URI length (maxUriLength, after EXT-X-DEFINE substitution)', () => {
  it('a 1 MiB variable referenced 256 times on one line: HLS_URI_TOO_LONG at the first reference, nothing built', () => {
    const text = bigDefine(256);
    const started = performance.now();
    const result = outcome(text);
    expect(result.code).toBe('HLS_URI_TOO_LONG');
    expect(result.calls).toBe(0);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('the same playlist through the streaming rewriter, in 64 KiB chunks: the same code', () => {
    const rewriter = new PlaylistRewriter({ baseUrl: BASE, rewriteUri: (context) => context.uri });
    const push = () => {
      for (const chunk of cut(new TextEncoder().encode(bigDefine(256)), 64 * 1024)) rewriter.push(chunk);
      rewriter.end();
    };
    expect(push).toThrow(expect.objectContaining({ code: 'HLS_URI_TOO_LONG' }));
  });

  it.each([
    { name: 'at the limit', uri: 'x'.repeat(100), limit: 100 + BASE.length, code: 'ok' },
    { name: 'one past the limit (plain URI)', uri: `https://cdn.test/${'x'.repeat(100)}`, limit: 116, code: 'HLS_URI_TOO_LONG' },
    { name: 'short line, long expansion', uri: '{$v}{$v}', define: 'a'.repeat(60), limit: 100, code: 'HLS_URI_TOO_LONG' },
    { name: 'short line, expansion that fits', uri: '{$v}{$v}', define: 'a'.repeat(40), limit: 100, code: 'ok' },
  ])('maxUriLength $limit, $name: $code', ({ uri, define, limit, code }) => {
    const text = `#EXTM3U\n${define === undefined ? '' : `#EXT-X-DEFINE:NAME="v",VALUE="${define}"\n`}#EXTINF:4,\n${uri}\n`;
    expect(outcome(text, { maxUriLength: limit }).code).toBe(code);
  });
});

describe('variable references (maxVariableReferences, per playlist)', () => {
  it.each([
    { references: 10, limit: 10, code: 'ok' },
    { references: 11, limit: 10, code: 'HLS_TOO_MANY_VARIABLE_REFERENCES' },
  ])('$references references, limit $limit: $code', ({ references, limit, code }) => {
    const text = `#EXTM3U\n#EXT-X-DEFINE:NAME="e",VALUE=""\n${Array.from({ length: references }, (_, i) => `#EXTINF:4,\ns${i}{$e}.ts\n`).join('')}`;
    expect(outcome(text, { maxVariableReferences: limit }).code).toBe(code);
  });

  it('a 1 MiB line of empty-variable references stops at the limit', () => {
    const text = `#EXTM3U\n#EXT-X-DEFINE:NAME="e",VALUE=""\n#EXTINF:4,\na${'{$e}'.repeat(200_000)}\n`;
    expect(outcome(text).code).toBe('HLS_TOO_MANY_VARIABLE_REFERENCES');
  });
});

describe('URIs per playlist (maxUris)', () => {
  it.each([
    { uris: 50, limit: 50, code: 'ok', calls: 50 },
    { uris: 51, limit: 50, code: 'HLS_TOO_MANY_URIS', calls: 50 },
  ])('$uris URIs, limit $limit: $code after $calls callbacks', ({ uris, limit, code, calls }) => {
    const text = `#EXTM3U\n${'a\n'.repeat(uris)}`;
    expect(outcome(text, { maxUris: limit, maxOutputRatio: 1e6 })).toMatchObject({ code, calls });
  });

  it('one million one-character URIs, limit 100,000: HLS_TOO_MANY_URIS after 100,000 callbacks', () => {
    const text = `#EXTM3U\n${'a\n'.repeat(1_000_000)}`;
    expect(outcome(text, { maxUris: 100_000 })).toMatchObject({ code: 'HLS_TOO_MANY_URIS', calls: 100_000 });
  });
});

describe('output size (maxOutputLength, maxOutputRatio)', () => {
  const token = (context: UriContext) => `/proxy/${'t'.repeat(1000)}/${context.uri}`;

  it('one million one-character URIs with 1 KB replacements: HLS_OUTPUT_AMPLIFIED within the first hundred URIs', () => {
    const text = `#EXTM3U\n${'a\n'.repeat(1_000_000)}`;
    const result = outcome(text, {}, token);
    expect(result.code).toBe('HLS_OUTPUT_AMPLIFIED');
    // 64 KiB of allowance, then 64 characters of output per character of input.
    expect(result.calls).toBeLessThan(100);
  });

  it('a playlist whose output grows less than the ratio allows passes', () => {
    const text = `#EXTM3U\n${Array.from({ length: 2000 }, (_, i) => `#EXTINF:4.000,\nsegment-${String(i).padStart(5, '0')}-${'q'.repeat(20)}.ts\n`).join('')}`;
    expect(outcome(text, {}, token).code).toBe('ok');
  });

  it.each([
    { limit: 2000 * 1010 + 100, code: 'ok' },
    { limit: 1000 * 1010, code: 'HLS_OUTPUT_TOO_LARGE' },
  ])('2,000 URIs of ~1 KB output each, maxOutputLength $limit: $code', ({ limit, code }) => {
    const text = `#EXTM3U\n${'a\n'.repeat(2000)}`;
    expect(outcome(text, { maxOutputLength: limit, maxOutputRatio: 1e6 }, token).code).toBe(code);
  });

  it('the output limit is checked before the output is built: the string is never longer than the limit', () => {
    const text = `#EXTM3U\n${'a\n'.repeat(2000)}`;
    const result = outcome(text, { maxOutputLength: 100_000, maxOutputRatio: 1e6 }, token);
    expect(result).toMatchObject({ code: 'HLS_OUTPUT_TOO_LARGE' });
    expect(result.calls).toBeLessThanOrEqual(100);
  });
});

describe('limit options are validated up front', () => {
  it.each([
    ['maxUris', 0],
    ['maxUriLength', 1.5],
    ['maxVariableReferences', -1],
    ['maxOutputLength', Number.NaN],
    ['maxOutputRatio', 0],
  ])('%s: %s is a TypeError naming the option', (name, value) => {
    expect(() => rewritePlaylist('#EXTM3U\n', { baseUrl: BASE, rewriteUri: (c) => c.uri, [name]: value })).toThrow(new RegExp(`options.${name}`));
  });
});
