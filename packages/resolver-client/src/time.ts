/**
 * A point in time as milliseconds since 1970-01-01T00:00:00Z, what `Date.now()` returns: the unit
 * of `expiresAt`, `resolvedAt` and the client's clock.
 *
 * @example
 * const now: EpochMilliseconds = Date.now();
 */
export type EpochMilliseconds = number;
