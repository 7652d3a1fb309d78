// Character-level helpers shared by the parsers. Everything works on char codes so that a
// parser never allocates per element it reads.

/** SP or HTAB: the two characters of RFC 9110's OWS. */
export function isOws(code: number): boolean {
  return code === 0x20 || code === 0x09;
}

export function isDigit(code: number): boolean {
  return code >= 0x30 && code <= 0x39;
}

/** RFC 9110 §5.6.2 tchar. */
export function isTchar(code: number): boolean {
  if (code >= 0x61 && code <= 0x7a) return true; // a-z
  if (code >= 0x41 && code <= 0x5a) return true; // A-Z
  if (code >= 0x30 && code <= 0x39) return true; // 0-9
  switch (code) {
    case 0x21: // !
    case 0x23: // #
    case 0x24: // $
    case 0x25: // %
    case 0x26: // &
    case 0x27: // '
    case 0x2a: // *
    case 0x2b: // +
    case 0x2d: // -
    case 0x2e: // .
    case 0x5e: // ^
    case 0x5f: // _
    case 0x60: // `
    case 0x7c: // |
    case 0x7e: // ~
      return true;
    default:
      return false;
  }
}

/** Index of the first character that is not OWS, at or after `from`. */
export function skipOws(text: string, from: number, to: number): number {
  let i = from;
  while (i < to && isOws(text.charCodeAt(i))) i++;
  return i;
}

/**
 * Bounds of the field value without leading and trailing OWS: RFC 9110 §5.5 excludes them from
 * the value, and a hand-built header (or a test) may still carry them.
 */
export function trimOws(text: string): { start: number; end: number } {
  let start = 0;
  let end = text.length;
  while (start < end && isOws(text.charCodeAt(start))) start++;
  while (end > start && isOws(text.charCodeAt(end - 1))) end--;
  return { start, end };
}

/**
 * Reads `1*DIGIT` starting at `from`. Returns the end index and the value, or a value of -1 when
 * there is no digit, or -2 when the number is beyond Number.MAX_SAFE_INTEGER (a position that
 * cannot be represented exactly is refused rather than rounded).
 * The result is packed into a reusable tuple owned by the caller to avoid allocating per number.
 */
export function readDigits(text: string, from: number, to: number, out: [end: number, value: number]): void {
  let i = from;
  let value = 0;
  while (i < to) {
    const code = text.charCodeAt(i);
    if (!isDigit(code)) break;
    value = value * 10 + (code - 0x30);
    if (value > Number.MAX_SAFE_INTEGER) {
      out[0] = i + 1;
      out[1] = -2;
      return;
    }
    i++;
  }
  out[0] = i;
  out[1] = i === from ? -1 : value;
}

/** Parses a whole string as `1*DIGIT` (a safe integer), or returns undefined. */
export function parseDecimal(text: string): number | undefined {
  if (text.length === 0) return undefined;
  const out: [number, number] = [0, 0];
  readDigits(text, 0, text.length, out);
  if (out[0] !== text.length || out[1] < 0) return undefined;
  return out[1];
}

/** A received value quoted for an error message: JSON-escaped and cut to a readable length. */
export function quote(value: unknown, max = 60): string {
  if (typeof value !== 'string') return typeof value === 'object' ? (value === null ? 'null' : 'an object') : `${typeof value} ${String(value)}`;
  const cut = value.length > max ? `${value.slice(0, max)}…` : value;
  return JSON.stringify(cut);
}

/** Throws a TypeError unless `size` is a usable representation length. */
export function assertSize(size: unknown, name = 'size'): asserts size is number {
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
    throw new TypeError(`${name} must be a non-negative safe integer (a length in bytes); received ${quote(size)}`);
  }
}

/** Throws a TypeError unless `header` is a string, undefined or null. */
export function assertHeader(header: unknown, name: string): asserts header is string | undefined | null {
  if (header !== undefined && header !== null && typeof header !== 'string') {
    throw new TypeError(`${name} must be a string, undefined or null; received ${quote(header)}`);
  }
}
