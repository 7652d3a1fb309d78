import type { UriContext, UriKind } from './types';

/** Extensions that players (FFmpeg's `extension_picky`) accept as they are. */
const MEDIA_EXTENSIONS: ReadonlySet<string> = new Set([
  'ts', 'm4s', 'mp4', 'm4a', 'm4v', 'aac', 'ac3', 'ec3', 'mp3', 'vtt', 'webvtt', 'm3u8', 'key', 'json',
]);

/** Name stems used when the upstream file name gives none. */
const DEFAULT_STEMS: Readonly<Record<UriKind, string>> = {
  playlist: 'playlist',
  segment: 'segment',
  map: 'init',
  key: 'key',
  data: 'data',
  steering: 'steering',
};

const MAX_STEM_LENGTH = 100;

function extensionFor(kind: UriKind, hasMap: boolean): string | undefined {
  switch (kind) {
    case 'segment':
      return hasMap ? 'm4s' : 'ts';
    case 'map':
      return 'mp4';
    case 'playlist':
      return 'm3u8';
    case 'key':
      return 'key';
    case 'data':
    case 'steering':
      return 'json';
    default:
      return undefined;
  }
}

/** The last path segment, percent-decoded when it decodes, with every unsafe character replaced. */
function safeLastSegment(url: URL | undefined): string {
  if (url === undefined) return '';
  const path = url.pathname;
  let segment = path.slice(path.lastIndexOf('/') + 1);
  try {
    segment = decodeURIComponent(segment);
  } catch {
    // A malformed escape stays as it is; the sanitizing below still makes it safe.
  }
  return segment.replace(/[^A-Za-z0-9._-]/g, '_');
}

/**
 * The `<name>` of SPEC 3.4: a safe file name that ends in a media extension. It is the upstream
 * file name when its extension (any case) is one of `ts m4s mp4 m4a m4v aac ac3 ec3 mp3 vtt webvtt
 * m3u8 key json`; otherwise the name's stem with an extension chosen by kind (`.ts` segments,
 * `.m4s` segments of a playlist with `EXT-X-MAP`, `.mp4` maps, `.m3u8` playlists, `.key` keys,
 * `.json` data and steering). Only `[A-Za-z0-9._-]`, never empty, never starting with a dot,
 * at most 100 characters before the extension.
 *
 * @example
 * ```ts
 * mediaFileName({ url: new URL('https://cdn.test/v/seg-001.ts?t=1'), kind: 'segment', hasMap: false }); // 'seg-001.ts'
 * mediaFileName({ url: new URL('https://cdn.test/v/seg-001.jpg'), kind: 'segment', hasMap: true });    // 'seg-001.m4s'
 * mediaFileName({ url: new URL('https://cdn.test/v/'), kind: 'playlist', hasMap: false });             // 'playlist.m3u8'
 * ```
 */
export function mediaFileName(context: Pick<UriContext, 'url' | 'kind' | 'hasMap'>): string {
  const kindExtension = extensionFor(context.kind, context.hasMap);
  if (kindExtension === undefined) throw new TypeError(`mediaFileName: unknown kind ${String(context.kind)}`);
  const name = safeLastSegment(context.url);
  const dot = name.lastIndexOf('.');
  const extension = dot === -1 ? '' : name.slice(dot + 1);
  // Leading dots would make hidden files, "." or "..".
  let stem = (dot === -1 ? name : name.slice(0, dot)).replace(/^\.+/, '');
  const keepExtension = MEDIA_EXTENSIONS.has(extension.toLowerCase());
  if (stem.length > MAX_STEM_LENGTH) stem = stem.slice(0, MAX_STEM_LENGTH);
  stem = stem.replace(/\.+$/, '');
  if (stem.length === 0) stem = DEFAULT_STEMS[context.kind];
  return `${stem}.${keepExtension ? extension : kindExtension}`;
}
