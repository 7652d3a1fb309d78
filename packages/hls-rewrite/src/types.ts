/**
 * What a URI points to, so that a proxy can answer it correctly:
 * `playlist` (rewrite it in turn), `segment`, `map` (init section), `key`, `data` (session data,
 * interstitial asset lists: JSON or raw), `steering` (a content steering manifest, JSON).
 *
 * @example
 * ```ts
 * const kind: UriKind = 'segment';
 * ```
 */
export type UriKind = 'playlist' | 'segment' | 'key' | 'map' | 'data' | 'steering';

/**
 * Everything the rewrite callback learns about one URI.
 *
 * @example
 * ```ts
 * const rewriteUri = (context: UriContext) => `/proxy/${context.kind}/${encodeURIComponent(String(context.url))}`;
 * ```
 */
export interface UriContext {
  /** The URI text exactly as in the playlist (for attributes: between the quotes). */
  uri: string;
  /**
   * The absolute http(s) URL, resolved against `baseUrl` per RFC 3986 (after `EXT-X-DEFINE`
   * variable substitution). Always set for URIs given to the callback: URIs of other schemes
   * (`data:`, `skd:`) and unparsable URIs are kept as they are and never reach the callback.
   */
  url: URL | undefined;
  /**
   * The same absolute URL as a string (equal to `url.href`). Reading it costs nothing: for plain
   * relative references (`seg-1.ts?token=…`) it is computed without a URL object, and `url` is only
   * built when read.
   */
  href: string;
  /** The tag, e.g. `EXT-X-KEY`; `undefined` for a URI line. */
  tag: string | undefined;
  /** The attribute, e.g. `URI`, `SERVER-URI`, `X-ASSET-LIST`; `undefined` for a URI line. */
  attribute: string | undefined;
  /**
   * The tag's `TYPE` attribute, when it has one: `AUDIO`, `VIDEO`, `SUBTITLES` or
   * `CLOSED-CAPTIONS` on `EXT-X-MEDIA` (a proxy names the segments of a subtitle rendition
   * `.vtt`), `PART` or `MAP` on `EXT-X-PRELOAD-HINT`; `undefined` elsewhere.
   */
  type: string | undefined;
  kind: UriKind;
  /** The playlist is a multivariant (master) playlist, as far as seen so far. */
  isMaster: boolean;
  /** An `EXT-X-MAP` has been seen so far (including the one on this line). */
  hasMap: boolean;
  /** 1-based line number in the input (a dropped BOM does not count; dropped leading blank lines do). */
  lineNumber: number;
  /**
   * The variables defined so far by `EXT-X-DEFINE` (NAME/VALUE, QUERYPARAM and IMPORT, resolved),
   * by name in the order of definition; `undefined` while there are none. In a multivariant
   * playlist these are what its media playlists may IMPORT: a proxy carries them to the child
   * playlist's link and passes them back as `imports` when it rewrites that child. The map grows
   * as the playlist is read: copy what you keep.
   */
  variables: ReadonlyMap<string, string> | undefined;
  /**
   * In a media playlist, the Media Sequence Number (RFC 8216bis 4.4.3.2) of the segment the URI
   * belongs to: for a URI line its own, for a tag's URI the segment whose URI line comes next
   * (`EXT-X-MEDIA-SEQUENCE` plus the segments before, `EXT-X-SKIP` ones included). It names a
   * segment across reloads of a live playlist, where positions shift. `undefined` in a
   * multivariant playlist.
   */
  sequenceNumber: number | undefined;
}

/**
 * Options of every rewrite function.
 *
 * @example
 * ```ts
 * const options: RewriteOptions = {
 *   baseUrl: 'https://cdn.test/show/index.m3u8',
 *   rewriteUri: ({ url, kind }) => `/proxy/${kind}?u=${encodeURIComponent(String(url))}`,
 * };
 * ```
 */
export interface RewriteOptions {
  /** The URL the playlist was finally fetched from (after redirects): an absolute http(s) URL. */
  baseUrl: string | URL;
  /**
   * Returns the replacement text, inserted as it is (for attributes, inside the quotes, so it must
   * not hold `"`; never CR or LF). Errors it throws pass through unchanged.
   */
  rewriteUri: (context: UriContext) => string;
  /** Longest accepted line, in UTF-16 code units without its line ending. Default 1 MiB (1,048,576). */
  maxLineLength?: number;
  /**
   * Longest URI handed to the callback, in UTF-16 code units, after `EXT-X-DEFINE` substitution:
   * a short line can reference a long variable many times. Default 65,536.
   */
  maxUriLength?: number;
  /** Most `{$variable}` references substituted in the URIs of one playlist. Default 100,000. */
  maxVariableReferences?: number;
  /** Most URIs handed to the callback for one playlist. Default 1,000,000. */
  maxUris?: number;
  /** Longest output, in UTF-16 code units. Default 64 MiB (67,108,864). */
  maxOutputLength?: number;
  /**
   * How many times longer than the input (in UTF-16 code units) the output may grow, plus 64 KiB so
   * that a short multivariant playlist may grow freely; checked as the output grows, against the
   * input read so far. Default 64.
   */
  maxOutputRatio?: number;
  /**
   * The variables of the multivariant playlist this media playlist was loaded from (its
   * `EXT-X-DEFINE` NAME/VALUE and QUERYPARAM values, as `UriContext.variables` gave them), for
   * `EXT-X-DEFINE:IMPORT`. Leave it out for a playlist that was not loaded from a multivariant
   * playlist: an IMPORT is then an error, as RFC 8216bis §4.4.2.3 says.
   */
  imports?: Readonly<Record<string, string>> | ReadonlyMap<string, string>;
}

/**
 * What a rewrite saw, as data.
 *
 * @example
 * ```ts
 * const stats: RewriteStats = { uris: 2, byTag: { 'URI-LINE': 1, 'EXT-X-KEY': 1 }, skipped: 0, warnings: [], lines: 5 };
 * ```
 */
export interface RewriteStats {
  /** URIs handed to the callback and replaced. */
  uris: number;
  /** Replaced URIs by tag; URI lines count under `URI-LINE`. */
  byTag: Record<string, number>;
  /** URIs kept as they are: non-http(s) schemes (`data:`, `skd:`) and URIs that do not parse. */
  skipped: number;
  /** Oddities worth a log line (at most 100 kept); never fatal. */
  warnings: string[];
  /** Lines read (a last line without a newline counts). */
  lines: number;
}
