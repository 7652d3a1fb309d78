/**
 * Stable codes of {@link DashRewriteError}.
 *
 * - `DASH_NOT_A_MANIFEST`: the first element is not `MPD` (nor an MPD `Patch`), or there is text before it.
 * - `DASH_INVALID_TEXT`: the bytes are not UTF-8, or hold characters XML forbids (controls, lone surrogates).
 * - `DASH_ELEMENT_TOO_LARGE`: one tag, comment, CDATA section or URL element is longer than `maxElementLength`.
 * - `DASH_MALFORMED`: the markup is not well-formed XML (an end tag that closes another element,
 *   an unterminated attribute, a second root element, text after the root).
 * - `DASH_TRUNCATED`: the input ended inside markup or before the root element was closed.
 * - `DASH_TOO_MANY_URLS`: the manifest has more URLs to rewrite than `maxUrls`.
 * - `DASH_OUTPUT_TOO_LARGE`: the output would be longer than `maxOutputLength`.
 * - `DASH_OUTPUT_AMPLIFIED`: the output would grow past `maxOutputRatio` times the input read so far (plus 64 KiB).
 */
export type DashRewriteErrorCode =
  | 'DASH_NOT_A_MANIFEST'
  | 'DASH_INVALID_TEXT'
  | 'DASH_ELEMENT_TOO_LARGE'
  | 'DASH_MALFORMED'
  | 'DASH_TRUNCATED'
  | 'DASH_TOO_MANY_URLS'
  | 'DASH_OUTPUT_TOO_LARGE'
  | 'DASH_OUTPUT_AMPLIFIED';

/**
 * The one error class of this package: every bad input ends in one of these, with a stable `code`.
 *
 * @example
 * ```ts
 * try {
 *   rewriteManifest('<html/>', { baseUrl: 'https://cdn.test/a.mpd', rewriteUrl: (c) => c.uri });
 * } catch (error) {
 *   if (error instanceof DashRewriteError) console.log(error.code); // 'DASH_NOT_A_MANIFEST'
 * }
 * ```
 */
export class DashRewriteError extends Error {
  override readonly name = 'DashRewriteError';
  readonly code: DashRewriteErrorCode;

  constructor(code: DashRewriteErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** Quotes at most `max` characters of received text for an error message. */
export function preview(text: string, max = 40): string {
  return JSON.stringify(text.length > max ? `${text.slice(0, max)}…` : text);
}
