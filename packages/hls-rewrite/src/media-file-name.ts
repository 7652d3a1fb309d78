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

/** The last path segment of an absolute URL (string or object), percent-decoded when it decodes, with every unsafe character replaced. */
function safeLastSegment(url: URL | undefined, href: string | undefined): string {
  let segment: string;
  if (href !== undefined) {
    // An absolute http(s) href always has a path that starts with "/", after "//authority".
    let pathEnd = href.length;
    const query = href.indexOf('?');
    const fragment = href.indexOf('#');
    if (query !== -1) pathEnd = query;
    if (fragment !== -1 && fragment < pathEnd) pathEnd = fragment;
    segment = href.slice(href.lastIndexOf('/', pathEnd - 1) + 1, pathEnd);
  } else if (url !== undefined) {
    segment = url.pathname.slice(url.pathname.lastIndexOf('/') + 1);
  } else {
    return '';
  }
  if (segment.includes('%')) {
    try {
      segment = decodeURIComponent(segment);
    } catch {
      // A malformed escape stays as it is; the sanitizing below still makes it safe.
    }
  }
  return isSafe(segment) ? segment : segment.replace(/[^A-Za-z0-9._-]/g, '_');
}

/** Whether every character is one of [A-Za-z0-9._-] (the common case, checked without a regex). */
function isSafe(text: string): boolean {
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (!((code >= 97 && code <= 122) || (code >= 65 && code <= 90) || (code >= 48 && code <= 57) || code === 45 || code === 46 || code === 95)) {
      return false;
    }
  }
  return true;
}

/** `text[start, end)` without dots at either end. */
function trimDots(text: string, start: number, end: number): string {
  while (start < end && text.charCodeAt(start) === 46) start++;
  while (end > start && text.charCodeAt(end - 1) === 46) end--;
  return text.slice(start, end);
}

/**
 * The `<name>` of a proxy link (docs/contract.md, "Playlists": link names): a safe file name that ends in a media extension. It is the upstream
 * file name when its extension (any case) is one of `ts m4s mp4 m4a m4v aac ac3 ec3 mp3 vtt webvtt
 * m3u8 key json`; otherwise the name's stem with an extension chosen by kind (`.ts` segments,
 * `.m4s` segments of a playlist with `EXT-X-MAP`, `.mp4` maps, `.m3u8` playlists, `.key` keys,
 * `.json` data and steering). Only `[A-Za-z0-9._-]`, never empty, never starting with a dot,
 * at most 100 characters before the extension. Given a whole {@link UriContext}, it reads `href`
 * and so never builds the context's URL object. With `subtitles: true` (the URI is a segment of a
 * subtitle rendition, `EXT-X-MEDIA TYPE=SUBTITLES`), a segment without a media extension is named
 * `.vtt`: FFmpeg's `extension_picky` refuses WebVTT under `.ts`.
 *
 * @example
 * ```ts
 * mediaFileName({ url: new URL('https://cdn.test/v/seg-001.ts?t=1'), kind: 'segment', hasMap: false }); // 'seg-001.ts'
 * mediaFileName({ url: new URL('https://cdn.test/v/seg-001.jpg'), kind: 'segment', hasMap: true });    // 'seg-001.m4s'
 * mediaFileName({ url: new URL('https://cdn.test/v/'), kind: 'playlist', hasMap: false });             // 'playlist.m3u8'
 * mediaFileName({ url: new URL('https://cdn.test/s/cue-3.jpg'), kind: 'segment', hasMap: false }, { subtitles: true }); // 'cue-3.vtt'
 * ```
 */
export function mediaFileName(
  context: Pick<UriContext, 'url' | 'kind' | 'hasMap'> & { href?: string },
  options: { subtitles?: boolean } = {},
): string {
  const kindExtension = options.subtitles === true && context.kind === 'segment' ? 'vtt' : extensionFor(context.kind, context.hasMap);
  if (kindExtension === undefined) throw new TypeError(`mediaFileName: unknown kind ${String(context.kind)}`);
  const name = safeLastSegment(context.href === undefined ? context.url : undefined, context.href);
  const dot = name.lastIndexOf('.');
  const extension = dot === -1 ? '' : name.slice(dot + 1);
  // Leading dots would make hidden files, "." or ".."; trailing ones would double the dot.
  let start = 0;
  while (start < name.length && name.charCodeAt(start) === 46) start++;
  const stemEnd = dot === -1 ? name.length : dot;
  let stem = trimDots(name, start, Math.max(start, Math.min(stemEnd, start + MAX_STEM_LENGTH)));
  const keepExtension = MEDIA_EXTENSIONS.has(extension.toLowerCase());
  if (stem.length === 0) stem = DEFAULT_STEMS[context.kind];
  return `${stem}.${keepExtension ? extension : kindExtension}`;
}
