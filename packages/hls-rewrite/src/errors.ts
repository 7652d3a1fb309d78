/**
 * Stable codes of {@link HlsRewriteError}.
 *
 * - `HLS_NOT_A_PLAYLIST`: the text does not start with `#EXTM3U` (after an optional BOM and whitespace).
 * - `HLS_LINE_TOO_LONG`: a line is longer than `maxLineLength`.
 * - `HLS_INVALID_TEXT`: the bytes are not UTF-8, or hold control characters other than tab, CR and LF.
 * - `HLS_TRUNCATED`: the input ended inside a UTF-8 sequence, or before the `#EXTM3U` line was complete.
 * - `HLS_STEERING_INVALID`: a content steering manifest is not UTF-8 JSON of the specified shape.
 * - `HLS_STEERING_TOO_LARGE`: a content steering manifest is larger than `MAX_STEERING_MANIFEST_BYTES`.
 *
 * - `HLS_BAD_VARIABLE`: an `EXT-X-DEFINE` or a variable reference that RFC 8216bis §4.4.2.3 and
 *   §6.3.1 say a client MUST fail to parse (an IMPORT the multivariant playlist does not define, a
 *   QUERYPARAM absent from the playlist's URL, an undefined or duplicate variable…).
 *
 * The limits on the work one playlist may cause (see {@link RewriteLimitCode}) are codes too.
 */
export type HlsRewriteErrorCode =
  | 'HLS_NOT_A_PLAYLIST'
  | 'HLS_LINE_TOO_LONG'
  | 'HLS_INVALID_TEXT'
  | 'HLS_TRUNCATED'
  | 'HLS_STEERING_INVALID'
  | 'HLS_STEERING_TOO_LARGE'
  | 'HLS_BAD_VARIABLE'
  | RewriteLimitCode;

/**
 * Codes of the limits on the work one playlist may cause; the rewrite stops at the breach, before
 * building the URI or the output that would pass the limit.
 *
 * - `HLS_URI_TOO_LONG`: a URI, once its `{$variable}` references are substituted, is longer than `maxUriLength`.
 * - `HLS_TOO_MANY_VARIABLE_REFERENCES`: the playlist's URIs hold more `{$variable}` references than `maxVariableReferences`.
 * - `HLS_TOO_MANY_URIS`: the playlist has more URIs to rewrite than `maxUris`.
 * - `HLS_OUTPUT_TOO_LARGE`: the output would be longer than `maxOutputLength`.
 * - `HLS_OUTPUT_AMPLIFIED`: the output would grow past `maxOutputRatio` times the input read so far (plus 64 KiB).
 */
export type RewriteLimitCode =
  | 'HLS_URI_TOO_LONG'
  | 'HLS_TOO_MANY_VARIABLE_REFERENCES'
  | 'HLS_TOO_MANY_URIS'
  | 'HLS_OUTPUT_TOO_LARGE'
  | 'HLS_OUTPUT_AMPLIFIED';

/**
 * The one error class of this package: every bad input (not a playlist, binary, invalid UTF-8, a line
 * too long, truncated) ends in one of these, with a stable `code`.
 *
 * @example
 * ```ts
 * try {
 *   rewritePlaylist('<html>', { baseUrl: 'https://cdn.test/a.m3u8', rewriteUri: (c) => c.uri });
 * } catch (error) {
 *   if (error instanceof HlsRewriteError) console.log(error.code); // 'HLS_NOT_A_PLAYLIST'
 * }
 * ```
 */
export class HlsRewriteError extends Error {
  override readonly name = 'HlsRewriteError';
  readonly code: HlsRewriteErrorCode;

  constructor(code: HlsRewriteErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** Quotes at most `max` characters of received text for an error message. */
export function preview(text: string, max = 40): string {
  const cut = text.length > max ? `${text.slice(0, max)}…` : text;
  return JSON.stringify(cut);
}
