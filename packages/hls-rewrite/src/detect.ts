const PLAYLIST_CONTENT_TYPES: ReadonlySet<string> = new Set([
  'application/vnd.apple.mpegurl',
  'application/x-mpegurl',
  'audio/mpegurl',
  'audio/x-mpegurl',
]);

/** `#EXTM3U` as bytes. */
const SIGNATURE = [0x23, 0x45, 0x58, 0x54, 0x4d, 0x33, 0x55];
const BOM = [0xef, 0xbb, 0xbf];
/** More leading whitespace than this is not a playlist: sniffing must decide without buffering a body. */
const MAX_LEADING_WHITESPACE = 1024;

/**
 * Whether a Content-Type names an HLS playlist (docs/contract.md, "Playlists": detection): `application/vnd.apple.mpegurl`,
 * `application/x-mpegurl`, `audio/mpegurl` or `audio/x-mpegurl`, any case, parameters ignored.
 *
 * @example
 * ```ts
 * isPlaylistContentType('Application/VND.Apple.MpegURL; charset=utf-8'); // true
 * isPlaylistContentType('text/plain'); // false
 * ```
 */
export function isPlaylistContentType(contentType: string | undefined | null): boolean {
  if (typeof contentType !== 'string') return false;
  const semicolon = contentType.indexOf(';');
  const type = (semicolon === -1 ? contentType : contentType.slice(0, semicolon)).trim().toLowerCase();
  return PLAYLIST_CONTENT_TYPES.has(type);
}

/**
 * Whether a URL's path ends in `.m3u8` or `.m3u` (any case); the query and fragment are ignored.
 * Relative references are read as paths.
 *
 * @example
 * ```ts
 * isPlaylistPath('https://cdn.test/a/INDEX.M3U8?token=x'); // true
 * isPlaylistPath('https://cdn.test/a/index.txt?f=a.m3u8'); // false
 * ```
 */
export function isPlaylistPath(url: string | URL): boolean {
  let pathname: string;
  try {
    pathname = (url instanceof URL ? url : new URL(String(url), 'http://relative.invalid/')).pathname.toLowerCase();
  } catch {
    return false;
  }
  return pathname.endsWith('.m3u8') || pathname.endsWith('.m3u');
}

/**
 * Looks at the first bytes of a body: `playlist` when they are `#EXTM3U` after an optional UTF-8
 * BOM and whitespace (space, tab, CR, LF), `undecided` while the bytes so far could still become
 * that, `not-playlist` as soon as they cannot (a media body is refused at its first byte).
 *
 * @example
 * ```ts
 * sniffPlaylist(new TextEncoder().encode('\n#EXTM3U\n')); // 'playlist'
 * sniffPlaylist(new TextEncoder().encode('#EXT'));        // 'undecided'
 * sniffPlaylist(Uint8Array.of(0x47, 0x40));               // 'not-playlist' (an MPEG-TS sync byte)
 * ```
 */
export function sniffPlaylist(head: Uint8Array): 'playlist' | 'not-playlist' | 'undecided' {
  if (!(head instanceof Uint8Array)) throw new TypeError(`sniffPlaylist expects a Uint8Array, received ${typeof head}`);
  let index = 0;
  let bomBytes = 0;
  while (bomBytes < BOM.length && index < head.length && head[index] === BOM[bomBytes]) {
    index++;
    bomBytes++;
  }
  if (bomBytes > 0 && bomBytes < BOM.length) return index === head.length ? 'undecided' : 'not-playlist';
  const whitespaceStart = index;
  while (index < head.length) {
    const byte = head[index];
    if (byte !== 0x20 && byte !== 0x09 && byte !== 0x0a && byte !== 0x0d) break;
    index++;
    if (index - whitespaceStart > MAX_LEADING_WHITESPACE) return 'not-playlist';
  }
  for (const expected of SIGNATURE) {
    if (index === head.length) return 'undecided';
    if (head[index] !== expected) return 'not-playlist';
    index++;
  }
  return 'playlist';
}

/**
 * Decides whether a response is an HLS playlist from what is known so far (docs/contract.md, "Playlists": detection): a playlist
 * Content-Type or a `.m3u8`/`.m3u` path say `playlist` at once; otherwise the first bytes decide
 * ({@link sniffPlaylist}), and without them the answer is `undecided`.
 *
 * @example
 * ```ts
 * detectPlaylist({ contentType: 'text/plain', url: 'https://cdn.test/list.txt' }); // 'undecided'
 * detectPlaylist({ contentType: 'text/plain', head: new TextEncoder().encode('#EXTM3U\n') }); // 'playlist'
 * detectPlaylist({ contentType: 'video/mp2t', head: Uint8Array.of(0x47) }); // 'not-playlist'
 * ```
 */
export function detectPlaylist(input: {
  contentType?: string | null;
  url?: string | URL;
  head?: Uint8Array;
}): 'playlist' | 'not-playlist' | 'undecided' {
  if (isPlaylistContentType(input.contentType)) return 'playlist';
  if (input.url !== undefined && isPlaylistPath(input.url)) return 'playlist';
  if (input.head === undefined) return 'undecided';
  return sniffPlaylist(input.head);
}
