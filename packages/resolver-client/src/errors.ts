/**
 * Every `code` a {@link ResolverError} can carry.
 * - `STRM_RESOLVER_NOT_FOUND`: the resolver (or the static file) does not know the episode.
 * - `STRM_RESOLVER_UNAVAILABLE`: the resolver could not be reached, or answered a status other
 *   than 200 or 404 (`status` says which), or a custom source failed.
 * - `STRM_RESOLVER_TIMEOUT`: no complete answer within the timeout.
 * - `STRM_RESOLVER_BAD_RESPONSE`: the answer was too large, not JSON, or not a valid resolution.
 * - `STRM_RESOLVER_BAD_FILE`: a static resolver file could not be read or is invalid.
 *
 * @example
 * ```ts
 * const status = (code: ResolverErrorCode) => (code === 'STRM_RESOLVER_NOT_FOUND' ? 404 : 502);
 * ```
 */
export type ResolverErrorCode =
  | 'STRM_RESOLVER_NOT_FOUND'
  | 'STRM_RESOLVER_UNAVAILABLE'
  | 'STRM_RESOLVER_TIMEOUT'
  | 'STRM_RESOLVER_BAD_RESPONSE'
  | 'STRM_RESOLVER_BAD_FILE';

/**
 * The one error class of `@strm/resolver-client`, for failures that are not plain misuse.
 *
 * Misuse (an identity with a negative season, an option of the wrong type) throws a `TypeError`
 * instead. Messages name what failed and what was expected; they never contain an upstream URL,
 * a header value or a body excerpt, because those may carry tokens.
 *
 * @example
 * ```ts
 * try {
 *   await client.resolve({ site: 'aniworld.to', slug: 'unknown', season: 1, episode: 1, language: 'German Dub' });
 * } catch (error) {
 *   if (error instanceof ResolverError) console.log(error.code, error.status);
 *   // STRM_RESOLVER_NOT_FOUND 404
 * }
 * ```
 */
export class ResolverError extends Error {
  override readonly name = 'ResolverError';
  readonly code: ResolverErrorCode;
  /** The resolver's HTTP status, when the failure is an HTTP answer. */
  readonly status?: number;

  constructor(code: ResolverErrorCode, message: string, options?: { cause?: unknown; status?: number }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    if (options?.status !== undefined) this.status = options.status;
  }
}
