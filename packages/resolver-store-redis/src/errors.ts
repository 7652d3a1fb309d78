/**
 * Every `code` a {@link RedisStoreError} can carry.
 * - `STRM_REDIS_UNAVAILABLE`: no connection to Redis, or Redis answered a command with an error.
 * - `STRM_REDIS_TIMEOUT`: Redis did not answer a command within `commandTimeoutMs`.
 *
 * @example
 * ```ts
 * const label = (code: RedisStoreErrorCode) => (code === 'STRM_REDIS_TIMEOUT' ? 'slow' : 'down');
 * ```
 */
export type RedisStoreErrorCode = 'STRM_REDIS_UNAVAILABLE' | 'STRM_REDIS_TIMEOUT';

/**
 * The one error class of `@strm/resolver-store-redis`. The store never throws it at the resolver
 * client (it falls back to its local cache instead); it reaches you through `onStateChange` when
 * Redis goes down. Messages name the operation and Redis's host and port, never the URL (it may
 * hold a password).
 *
 * @example
 * ```ts
 * const store = createRedisStore({
 *   url: 'redis://redis:6379',
 *   onStateChange: (change) => {
 *     if (change.state === 'down') console.log(change.error.code, change.error.message);
 *     // STRM_REDIS_UNAVAILABLE connection to Redis at redis:6379 lost: connect ECONNREFUSED 10.0.0.7:6379
 *   },
 * });
 * ```
 */
export class RedisStoreError extends Error {
  override readonly name = 'RedisStoreError';
  readonly code: RedisStoreErrorCode;

  constructor(code: RedisStoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
  }
}
