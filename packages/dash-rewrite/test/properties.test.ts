import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DashRewriteError, ManifestRewriter, rewriteManifest } from '../src/index';
import { identity, proxyCallback } from './helpers';

const BASE = 'https://cdn.test/a/b/manifest.mpd?t=1';
const encoder = new TextEncoder();

/** Characters of values: URL characters, XML-special ones written as references, multi-byte ones. */
const valueChar = fc.constantFrom(...'abcXYZ019-._~/?#[]@!$()*+,;=%: '.split(''), '&amp;', '&lt;', '&gt;', '&quot;', '&apos;', '&#38;', '&#x26;', 'é', '✓', '😀', '$Number$', '$Time%08d$', '$$');
const value = fc.array(valueChar, { maxLength: 10 }).map((parts) => parts.join(''));
const attributeName = fc.constantFrom('media', 'initialization', 'index', 'bitstreamSwitching', 'sourceURL', 'id', 'range', 'xlink:href', 'value');
const attributes = fc
  .uniqueArray(fc.tuple(attributeName, value, fc.constantFrom('"', "'"), fc.constantFrom(' ', '\n  ', '\t')), { selector: ([name]) => name, maxLength: 4 })
  .map((list) => list.map(([name, text, quote, space]) => `${space}${name}=${quote}${quote === '"' ? text.replace(/"/g, '&quot;') : text.replace(/'/g, '&apos;')}${quote}`).join(''));
const elementName = fc.constantFrom('BaseURL', 'Location', 'PatchLocation', 'ContentSteering', 'SegmentTemplate', 'SegmentURL', 'Initialization', 'RepresentationIndex', 'BitstreamSwitching', 'Period', 'AdaptationSet', 'Representation', 'UTCTiming', 'x:BaseURL', 'S');
const misc = fc.constantFrom('<!-- a > b -->', '<?pi x?>', '<![CDATA[<BaseURL>x</BaseURL>]]>', '\n', '  ', 'text &amp; more');

/** A tree of MPD-like elements: any nesting, URL elements with text, attributes with references. */
const node: fc.Memo<string> = fc.memo((depth) =>
  fc.oneof(
    { depthSize: 'small' },
    misc,
    fc.tuple(elementName, attributes).map(([name, attrs]) => `<${name}${attrs}/>`),
    fc.tuple(elementName, attributes, value, fc.constantFrom('', ' ', '\n')).map(([name, attrs, text, pad]) => `<${name}${attrs}>${pad}${text}${pad}</${name}>`),
    fc.tuple(elementName, attributes, fc.array(depth > 0 ? node(depth - 1) : misc, { maxLength: 4 })).map(([name, attrs, children]) => `<${name}${attrs}>${children.join('')}</${name}>`),
  ),
);
const manifest = fc
  .tuple(fc.constantFrom('', '\uFEFF', '<?xml version="1.0" encoding="UTF-8"?>\n', '<!-- head -->\r\n'), fc.constantFrom('<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" xmlns:x="urn:x">', '<mpd:MPD xmlns:mpd="urn:mpeg:dash:schema:mpd:2011" xmlns:x="urn:x">'), fc.array(node(3), { maxLength: 6 }), fc.constantFrom('', '\n', '\n<!-- tail -->\n'))
  .map(([prolog, open, children, tail]) => {
    const close = open.startsWith('<mpd:') ? '</mpd:MPD>' : '</MPD>';
    const body = open.startsWith('<mpd:') ? children.map((child) => child.replace(/<(\/?)(?!x:)([A-Z])/g, '<$1mpd:$2')).join('') : children.join('');
    return `${prolog}${open}${body}${close}${tail}`;
  });

/** Cut points into a byte array: any positions, including inside UTF-8 sequences. */
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

function viaStream(chunks: Uint8Array[], rewriteUrl = proxyCallback): string {
  const rewriter = new ManifestRewriter({ baseUrl: BASE, rewriteUrl });
  let output = '';
  for (const chunk of chunks) output += rewriter.push(chunk);
  return output + rewriter.end();
}

describe('properties', () => {
  it('the identity callback returns any manifest byte for byte', () => {
    fc.assert(
      fc.property(manifest, (text) => {
        expect(rewriteManifest(text, { baseUrl: BASE, rewriteUrl: identity }).text).toBe(text);
      }),
      { numRuns: 500 },
    );
  });

  it('stream output equals string output for every way of cutting the bytes', () => {
    fc.assert(
      fc.property(manifest, fc.array(fc.nat(), { maxLength: 12 }), (text, cuts) => {
        const bytes = encoder.encode(text);
        expect(viaStream(pieces(bytes, cuts))).toBe(rewriteManifest(text, { baseUrl: BASE, rewriteUrl: proxyCallback }).text);
      }),
      { numRuns: 500 },
    );
  });

  it('a replacement holding every XML-special character decodes back to itself (escaping round trip)', () => {
    fc.assert(
      fc.property(manifest, fc.string({ unit: fc.constantFrom('a', '&', '<', '>', '"', "'", '\t', '\n', '\r', ']]>', 'é', '/'), maxLength: 12 }), (text, replacement) => {
        const seenOnce: string[] = [];
        const first = rewriteManifest(text, { baseUrl: BASE, rewriteUrl: () => `https://p.test/${replacement}` }).text;
        // Reading the output again, every URL the callback sees is what was written.
        rewriteManifest(first, {
          baseUrl: BASE,
          rewriteUrl: ({ uri }) => {
            seenOnce.push(uri);
            return uri;
          },
        });
        for (const uri of seenOnce) expect(uri).toBe(`https://p.test/${replacement}`.trim());
      }),
      { numRuns: 300 },
    );
  });

  it('arbitrary bytes never throw anything but DashRewriteError (bare, or inside an MPD)', () => {
    fc.assert(
      fc.property(fc.boolean(), fc.uint8Array({ maxLength: 200 }), fc.array(fc.nat(), { maxLength: 4 }), (prefixed, body, cuts) => {
        const bytes = prefixed ? new Uint8Array([...encoder.encode('<MPD><BaseURL>'), ...body]) : body;
        try {
          viaStream(pieces(bytes, cuts));
        } catch (error) {
          expect(error).toBeInstanceOf(DashRewriteError);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('arbitrary strings (markup pieces, lone surrogates, controls) never throw anything but DashRewriteError', () => {
    const anyUnit = fc.integer({ min: 0, max: 0xffff }).map((code) => String.fromCharCode(code));
    const piece = fc.oneof(anyUnit, fc.constantFrom('<', '>', '/', '"', "'", '=', '&', ';', '<!--', '-->', '<![CDATA[', ']]>', '<?', '?>', '<!DOCTYPE', '<BaseURL>', '</BaseURL>', '<SegmentTemplate media="', 'xmlns:a="', '&#x0;', '&#xD800;', '&foo;'));
    fc.assert(
      fc.property(fc.boolean(), fc.array(piece, { maxLength: 40 }), (prefixed, parts) => {
        const body = parts.join('');
        try {
          rewriteManifest(prefixed ? `<MPD>${body}` : body, { baseUrl: BASE, rewriteUrl: proxyCallback });
        } catch (error) {
          expect(error).toBeInstanceOf(DashRewriteError);
        }
      }),
      { numRuns: 1000 },
    );
  });
});
