/**
 * A point in time as whole or fractional seconds since 1970-01-01T00:00:00Z: the unit of `exp` in
 * entry URLs and of token expiry. (`Date.now()` is milliseconds: divide by 1000.)
 *
 * @example
 * const now: UnixSeconds = Date.now() / 1000;
 */
export type UnixSeconds = number;
