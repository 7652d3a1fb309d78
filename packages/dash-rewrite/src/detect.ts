/** More bytes than this before the root element, and a body is not taken for a manifest: sniffing must decide without buffering media. */
export const MAX_SNIFF_BYTES = 4096;

/**
 * Whether a Content-Type names an MPEG-DASH manifest: `application/dash+xml`, any case,
 * parameters ignored.
 *
 * @example
 * ```ts
 * isManifestContentType('application/DASH+xml; charset=utf-8'); // true
 * isManifestContentType('application/xml');                      // false (sniffed instead)
 * ```
 */
export function isManifestContentType(contentType: string | undefined | null): boolean {
  if (typeof contentType !== 'string') return false;
  const semicolon = contentType.indexOf(';');
  return (semicolon === -1 ? contentType : contentType.slice(0, semicolon)).trim().toLowerCase() === 'application/dash+xml';
}

/**
 * Whether a URL's path ends in `.mpd` (any case); the query and fragment are ignored.
 *
 * @example
 * ```ts
 * isManifestPath('https://cdn.test/a/Manifest.MPD?token=x'); // true
 * isManifestPath('https://cdn.test/a/seg.m4s?f=a.mpd');     // false
 * ```
 */
export function isManifestPath(url: string | URL): boolean {
  let pathname: string;
  try {
    pathname = (url instanceof URL ? url : new URL(String(url), 'http://relative.invalid/')).pathname.toLowerCase();
  } catch {
    return false;
  }
  return pathname.endsWith('.mpd');
}

const isSpace = (byte: number | undefined) => byte === 0x20 || byte === 0x09 || byte === 0x0a || byte === 0x0d;
const isNameByte = (byte: number) =>
  (byte >= 0x61 && byte <= 0x7a) || (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x30 && byte <= 0x39) || byte === 0x2d || byte === 0x5f || byte === 0x2e || byte >= 0x80;

function startsWithAscii(head: Uint8Array, at: number, text: string): 'yes' | 'no' | 'short' {
  for (let offset = 0; offset < text.length; offset++) {
    if (at + offset >= head.length) return 'short';
    if (head[at + offset] !== text.charCodeAt(offset)) return 'no';
  }
  return 'yes';
}

function indexOfAscii(head: Uint8Array, text: string, from: number): number {
  const first = text.charCodeAt(0);
  for (let index = from; index + text.length <= head.length; index++) {
    if (head[index] === first && startsWithAscii(head, index, text) === 'yes') return index;
  }
  return -1;
}

/**
 * Looks at the first bytes of a body: `manifest` when, after an optional UTF-8 BOM, whitespace,
 * an XML declaration, comments, processing instructions and a DOCTYPE, the first element is
 * `MPD` (with or without a namespace prefix); `undecided` while the bytes so far could still
 * become that; `not-manifest` as soon as they cannot (a media body is refused at its first byte)
 * or after {@link MAX_SNIFF_BYTES} bytes without a root element.
 *
 * @example
 * ```ts
 * sniffManifest(new TextEncoder().encode('<?xml version="1.0"?>\n<!-- c -->\n<MPD xmlns="urn:mpeg:dash:schema:mpd:2011">')); // 'manifest'
 * sniffManifest(new TextEncoder().encode('<?xml version="1.0"?>')); // 'undecided'
 * sniffManifest(Uint8Array.of(0x00, 0x00, 0x00, 0x18));           // 'not-manifest' (an MP4 box)
 * ```
 */
export function sniffManifest(head: Uint8Array): 'manifest' | 'not-manifest' | 'undecided' {
  if (!(head instanceof Uint8Array)) throw new TypeError(`sniffManifest expects a Uint8Array, received ${typeof head}`);
  let index = 0;
  const bom = startsWithAscii(head, 0, '\xef\xbb\xbf');
  if (bom === 'yes') index = 3;
  else if (head.length > 0 && head[0] === 0xef) return bom === 'short' ? 'undecided' : 'not-manifest';
  for (;;) {
    while (isSpace(head[index])) index++;
    if (index >= MAX_SNIFF_BYTES) return 'not-manifest';
    if (index >= head.length) return 'undecided';
    if (head[index] !== 0x3c /* < */) return 'not-manifest';
    if (index + 1 >= head.length) return 'undecided';
    const next = head[index + 1]!;
    let close: string | undefined;
    if (next === 0x3f /* ? */) close = '?>';
    else if (next === 0x21 /* ! */) {
      const comment = startsWithAscii(head, index, '<!--');
      const doctype = startsWithAscii(head, index, '<!DOCTYPE');
      if (comment === 'yes') close = '-->';
      else if (doctype === 'yes') close = '>';
      else return comment === 'short' || doctype === 'short' ? 'undecided' : 'not-manifest';
    }
    if (close !== undefined) {
      const end = indexOfAscii(head, close, index + 2);
      if (end === -1) return head.length >= MAX_SNIFF_BYTES ? 'not-manifest' : 'undecided';
      index = end + close.length;
      continue;
    }
    // The root element: `MPD` or `prefix:MPD`, then a space, `>` or `/`.
    let nameEnd = index + 1;
    while (nameEnd < head.length && (isNameByte(head[nameEnd]!) || head[nameEnd] === 0x3a)) nameEnd++;
    if (nameEnd >= head.length) return nameEnd - index > 256 ? 'not-manifest' : 'undecided';
    const name = new TextDecoder().decode(head.subarray(index + 1, nameEnd));
    const local = name.slice(name.indexOf(':') + 1);
    const after = head[nameEnd]!;
    return local === 'MPD' && (isSpace(after) || after === 0x3e || after === 0x2f) ? 'manifest' : 'not-manifest';
  }
}

/**
 * Decides whether a response is a DASH manifest from what is known so far: the Content-Type or a
 * `.mpd` path say `manifest` at once; otherwise the first bytes decide ({@link sniffManifest}),
 * and without them the answer is `undecided`.
 *
 * @example
 * ```ts
 * detectManifest({ contentType: 'application/dash+xml' });                          // 'manifest'
 * detectManifest({ contentType: 'text/xml', head: new TextEncoder().encode('<MPD>') }); // 'manifest'
 * detectManifest({ contentType: 'video/mp4', head: Uint8Array.of(0) });               // 'not-manifest'
 * ```
 */
export function detectManifest(input: { contentType?: string | null; url?: string | URL; head?: Uint8Array }): 'manifest' | 'not-manifest' | 'undecided' {
  if (isManifestContentType(input.contentType)) return 'manifest';
  if (input.url !== undefined && isManifestPath(input.url)) return 'manifest';
  if (input.head === undefined) return 'undecided';
  return sniffManifest(input.head);
}
