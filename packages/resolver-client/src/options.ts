/** @internal Option checks shared by the factories: each names the option and what it received. */
export function checkPositiveInteger(value: unknown, option: string, fallback: number, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0 || value > max) {
    throw new TypeError(`${option} must be a positive integer up to ${max}; received ${String(value)}`);
  }
  return value;
}

/** @internal */
export function checkNonNegativeNumber(value: unknown, option: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new TypeError(`${option} must be a finite, non-negative number; received ${String(value)}`);
  }
  return value;
}

/** @internal */
export function checkFunction<T>(value: T | undefined, option: string): T | undefined {
  if (value !== undefined && typeof value !== 'function') {
    throw new TypeError(`${option} must be a function; received a value of type ${typeof value}`);
  }
  return value;
}
