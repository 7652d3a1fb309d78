/**
 * What a URL of a manifest points to, so that a proxy can answer it correctly:
 * `base` (a `BaseURL`: a prefix that other URLs resolve against), `segment` (media segments,
 * templates included), `init` (initialization and bitstream-switching segments), `index`
 * (segment index: `sidx`), `manifest` (`Location`: an MPD to rewrite in turn), `patch`
 * (`PatchLocation`: an MPD patch document), `steering` (a content steering server, JSON).
 *
 * @example
 * ```ts
 * const kind: UrlKind = 'segment';
 * ```
 */
export type UrlKind = 'base' | 'segment' | 'init' | 'index' | 'manifest' | 'patch' | 'steering';

/**
 * Everything the rewrite callback learns about one URL.
 *
 * @example
 * ```ts
 * const rewriteUrl = (context: UrlContext) => `https://proxy.test/${context.kind}?u=${encodeURIComponent(context.href)}`;
 * ```
 */
export interface UrlContext {
  /** The URL as the manifest means it: entities and CDATA decoded, surrounding whitespace trimmed. */
  uri: string;
  /**
   * The absolute http(s) URL, `uri` resolved (RFC 3986) against the `BaseURL` in effect, or the
   * manifest's own URL. In a `SegmentTemplate` it still holds the `$…$` identifiers.
   */
  href: string;
  /** The upstream base `uri` was resolved against. */
  base: string;
  /**
   * The base a player of the rewritten manifest resolves the replacement against: `outputUrl`,
   * or the replacement of the nearest `BaseURL` resolved against its own output base.
   */
  outputBase: string;
  /** The element's local name, e.g. `SegmentTemplate`, `BaseURL`. */
  element: string;
  /** The attribute, e.g. `media`, `sourceURL`; `undefined` for an element's text. */
  attribute: string | undefined;
  kind: UrlKind;
  /** The URL is a `SegmentTemplate` attribute: the player expands its `$…$` identifiers. */
  template: boolean;
  /** 1-based line of the element's start in the input. */
  lineNumber: number;
}

/**
 * Options of every rewrite function.
 *
 * @example
 * ```ts
 * const options: RewriteOptions = {
 *   baseUrl: 'https://cdn.test/show/manifest.mpd',
 *   rewriteUrl: ({ href, kind }) => `https://proxy.test/${kind}?u=${encodeURIComponent(href)}`,
 * };
 * ```
 */
export interface RewriteOptions {
  /** The URL the manifest was finally fetched from (after redirects): an absolute http(s) URL. */
  baseUrl: string | URL;
  /**
   * The URL the rewritten manifest will be served at (any absolute URL; a placeholder origin
   * will do): only used to tell each callback its `outputBase`. Default: `baseUrl`.
   */
  outputUrl?: string | URL;
  /**
   * Returns the replacement URL, as text: it is XML-escaped on output (`&` → `&amp;`…).
   * Returning `context.uri` keeps the original bytes. Errors it throws pass through unchanged.
   */
  rewriteUrl: (context: UrlContext) => string;
  /**
   * Longest accepted piece of markup, in UTF-16 code units: one tag with its attributes, a
   * comment, a CDATA section, a processing instruction, or a URL element with its text.
   * Default 1 MiB (1,048,576).
   */
  maxElementLength?: number;
  /** Most URLs handed to the callback for one manifest. Default 1,000,000. */
  maxUrls?: number;
  /** Longest output, in UTF-16 code units. Default 64 MiB (67,108,864). */
  maxOutputLength?: number;
  /**
   * How many times longer than the input (in UTF-16 code units) the output may grow, plus 64 KiB;
   * checked after each piece of markup, against the input read so far. Default 64.
   */
  maxOutputRatio?: number;
}

/**
 * What a rewrite saw, as data.
 *
 * @example
 * ```ts
 * const stats: RewriteStats = { urls: 3, byElement: { BaseURL: 1, 'SegmentTemplate@media': 1, 'SegmentTemplate@initialization': 1 }, skipped: 0, warnings: [] };
 * ```
 */
export interface RewriteStats {
  /** URLs handed to the callback and replaced (or kept, if it returned them unchanged). */
  urls: number;
  /** URLs by element (`BaseURL`) or element and attribute (`SegmentTemplate@media`). */
  byElement: Record<string, number>;
  /** URLs kept as they are: other schemes (`urn:`, `data:`), undecodable or unparsable values. */
  skipped: number;
  /** Oddities worth a log line (at most 100 kept); never fatal. */
  warnings: string[];
}
