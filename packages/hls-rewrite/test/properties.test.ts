import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HlsRewriteError, PlaylistRewriter, rewritePlaylist, TAG_RULES } from '../src/index';
import { identity, proxyCallback } from './helpers';

const BASE = 'https://cdn.test/a/b/index.m3u8?t=1';
const encoder = new TextEncoder();

/** Characters of URIs and values: ASCII and some multi-byte ones, no controls, no quote. */
const uriChar = fc.constantFrom(...'abcXYZ019-._~/?#[]@!$&\'()*+,;=% :'.split(''), 'é', '✓', '😀', 'ß');
const uriText = fc.string({ unit: uriChar, minLength: 1, maxLength: 24 });
const quotedValue = fc.string({ unit: uriChar, maxLength: 16 });
const attributeName = fc.constantFrom('URI', 'SERVER-URI', 'X-ASSET-URI', 'X-ASSET-LIST', 'X-URI', 'TYPE', 'METHOD', 'BYTERANGE', 'ID', 'X-CUSTOM-URI');
const attribute = fc.oneof(
  fc.tuple(attributeName, quotedValue).map(([name, value]) => `${name}="${value}"`),
  fc.tuple(attributeName, fc.constantFrom('PART', 'MAP', 'AES-128', '0x1F', '12.5', 'YES')).map(([name, value]) => `${name}=${value}`),
);
// EXT-X-DEFINE is left out: arbitrary attributes make an invalid definition, an error by design
// (RFC 8216bis 4.4.2.3); test/variables.test.ts and the 4.4.2.3 golden fixtures cover it.
const tagName = fc.constantFrom(
  'EXT-X-KEY', 'EXT-X-MAP', 'EXT-X-PART', 'EXT-X-PRELOAD-HINT', 'EXT-X-RENDITION-REPORT', 'EXT-X-MEDIA', 'EXT-X-STREAM-INF',
  'EXT-X-I-FRAME-STREAM-INF', 'EXT-X-SESSION-DATA', 'EXT-X-SESSION-KEY', 'EXT-X-CONTENT-STEERING', 'EXT-X-DATERANGE',
  'EXT-X-UNKNOWN', 'EXTINF',
);
const line = fc.oneof(
  fc.tuple(tagName, fc.array(attribute, { maxLength: 5 })).map(([tag, attributes]) => `#${tag}:${attributes.join(',')}`),
  uriText.filter((text) => !text.startsWith('#')),
  quotedValue.map((text) => `# ${text}`),
  fc.constant(''),
  fc.constant('#EXT-X-PREFETCH:next.ts'),
);
const ending = fc.constantFrom('\n', '\r\n');
/** Any playlist shape: #EXTM3U first, then lines with LF or CRLF each, with or without a final newline. */
const playlist = fc
  .tuple(fc.array(fc.tuple(line, ending), { maxLength: 25 }), fc.boolean())
  .map(([lines, finalNewline]) => {
    const text = `#EXTM3U\n${lines.map(([content, end]) => content + end).join('')}`;
    return finalNewline ? text : text.replace(/\r?\n$/, '');
  });

/** Cut points into a byte array: any positions, including inside UTF-8 sequences and CRLF. */
function pieces(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let from = 0;
  for (const point of points) {
    out.push(bytes.subarray(from, point));
    from = point;
  }
  out.push(bytes.subarray(from));
  return out;
}

function viaStream(chunks: Uint8Array[], rewriteUri = proxyCallback): string {
  const rewriter = new PlaylistRewriter({ baseUrl: BASE, rewriteUri });
  let output = '';
  for (const chunk of chunks) output += rewriter.push(chunk);
  return output + rewriter.end();
}

describe('properties', () => {
  it('the identity callback returns any playlist byte for byte', () => {
    fc.assert(
      fc.property(playlist, (text) => {
        expect(rewritePlaylist(text, { baseUrl: BASE, rewriteUri: identity }).text).toBe(text);
      }),
      { numRuns: 500 },
    );
  });

  it('stream output equals string output for every way of cutting the bytes', () => {
    fc.assert(
      fc.property(playlist, fc.array(fc.nat(), { maxLength: 12 }), (text, cuts) => {
        const bytes = encoder.encode(text);
        expect(viaStream(pieces(bytes, cuts))).toBe(rewritePlaylist(text, { baseUrl: BASE, rewriteUri: proxyCallback }).text);
      }),
      { numRuns: 500 },
    );
  });

  it('a rewritten playlist keeps its line count, comments and every tag without URIs', () => {
    fc.assert(
      fc.property(playlist, (text) => {
        const output = rewritePlaylist(text, { baseUrl: BASE, rewriteUri: () => 'X' }).text;
        const before = text.split('\n');
        const after = output.split('\n');
        expect(after).toHaveLength(before.length);
        before.forEach((original, index) => {
          const rule = TAG_RULES.get(original.slice(1, original.indexOf(':') === -1 ? undefined : original.indexOf(':')));
          if (original.startsWith('#') && rule?.uriAttributes === undefined && rule?.valueKind === undefined) expect(after[index]).toBe(original);
        });
      }),
      { numRuns: 300 },
    );
  });

  it('arbitrary bytes never throw anything but HlsRewriteError (bare, or after #EXTM3U)', () => {
    fc.assert(
      fc.property(fc.boolean(), fc.uint8Array({ maxLength: 200 }), fc.array(fc.nat(), { maxLength: 4 }), (prefixed, body, cuts) => {
        const bytes = prefixed ? new Uint8Array([...encoder.encode('#EXTM3U\n'), ...body]) : body;
        try {
          viaStream(pieces(bytes, cuts));
        } catch (error) {
          expect(error).toBeInstanceOf(HlsRewriteError);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('arbitrary strings (lone surrogates and controls included) never throw anything but HlsRewriteError', () => {
    const anyUnit = fc.integer({ min: 0, max: 0xffff }).map((code) => String.fromCharCode(code));
    fc.assert(
      fc.property(fc.boolean(), fc.string({ unit: fc.oneof(anyUnit, fc.constantFrom('\n', '"', ',', '=', '#EXT-X-KEY:URI="')), maxLength: 80 }), (prefixed, body) => {
        try {
          rewritePlaylist(prefixed ? `#EXTM3U\n${body}` : body, { baseUrl: BASE, rewriteUri: proxyCallback });
        } catch (error) {
          expect(error).toBeInstanceOf(HlsRewriteError);
        }
      }),
      { numRuns: 1000 },
    );
  });
});
