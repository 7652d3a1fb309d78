import type { ByteRange } from './range-header';
import { assertHeader, assertSize, isTchar, quote, readDigits, trimOws } from './syntax';

/**
 * A parsed `Content-Range` (RFC 9110 §14.4):
 * - `range`: `bytes 42-1233/1234` (`size` is `undefined` for `bytes 42-1233/*`);
 * - `unsatisfied`: `bytes *\/1234`, the form a 416 carries;
 * - `invalid`: anything else, with the reason.
 *
 * @example
 * const parsed: ContentRange = parseContentRange('bytes 42-1233/1234');
 * // { kind: 'range', start: 42, end: 1233, size: 1234 }
 */
export type ContentRange =
  | { kind: 'range'; start: number; end: number; size: number | undefined }
  | { kind: 'unsatisfied'; size: number }
  | { kind: 'invalid'; reason: string };

function invalid(reason: string): { kind: 'invalid'; reason: string } {
  return { kind: 'invalid', reason };
}

/**
 * Parses a `Content-Range` strictly:
 * `range-unit SP ( first-pos "-" last-pos "/" ( complete-length / "*" ) / "*" "/" complete-length )`.
 * The unit must be `bytes` (any case), exactly one SP follows it, numbers are `1*DIGIT` (leading
 * zeros allowed, as the ABNF allows them) up to `Number.MAX_SAFE_INTEGER`, and a range whose
 * last-pos is before its first-pos or not below the complete length is invalid (§14.4).
 *
 * @throws {TypeError} when `value` is not a string, undefined or null.
 * @example
 * parseContentRange('bytes 0-499/1234'); // { kind: 'range', start: 0, end: 499, size: 1234 }
 * parseContentRange('bytes 42-1233/*');  // { kind: 'range', start: 42, end: 1233, size: undefined }
 * parseContentRange('bytes *\/47022');    // { kind: 'unsatisfied', size: 47022 }
 * parseContentRange('bytes 0-1234/1234');
 * // { kind: 'invalid', reason: 'last-pos 1234 is not below the complete length 1234' }
 */
export function parseContentRange(value: string | undefined | null): ContentRange {
  assertHeader(value, 'value');
  if (value === undefined || value === null) return invalid('no Content-Range');
  const { start: begin, end } = trimOws(value);
  if (begin === end) return invalid('empty Content-Range');

  let i = begin;
  while (i < end && isTchar(value.charCodeAt(i))) i++;
  if (i === begin || i === end || value.charCodeAt(i) !== 0x20) {
    return invalid(`expected a range unit and one space, received ${quote(value)}`);
  }
  const unit = value.slice(begin, i);
  if (unit.toLowerCase() !== 'bytes') return invalid(`unsupported range unit ${quote(unit, 20)}: only "bytes" is defined`);
  i++;

  const digits: [number, number] = [0, 0];
  const number = (what: string): number | string => {
    readDigits(value, i, end, digits);
    if (digits[1] === -1) return `expected the ${what} (digits) in ${quote(value)}`;
    if (digits[1] === -2) return `${what} beyond ${Number.MAX_SAFE_INTEGER} in ${quote(value)}`;
    i = digits[0];
    return digits[1];
  };
  const expect = (code: number, char: string): string | undefined =>
    i < end && value.charCodeAt(i) === code ? (i++, undefined) : `expected "${char}" at offset ${i - begin} of ${quote(value)}`;

  if (value.charCodeAt(i) === 0x2a) {
    i++;
    const slash = expect(0x2f, '/');
    if (slash !== undefined) return invalid(slash);
    const size = number('complete-length');
    if (typeof size === 'string') return invalid(size);
    if (i !== end) return invalid(`unexpected text after the complete-length in ${quote(value)}`);
    return { kind: 'unsatisfied', size };
  }

  const first = number('first-pos');
  if (typeof first === 'string') return invalid(first);
  const dash = expect(0x2d, '-');
  if (dash !== undefined) return invalid(dash);
  const last = number('last-pos');
  if (typeof last === 'string') return invalid(last);
  const slash = expect(0x2f, '/');
  if (slash !== undefined) return invalid(slash);
  let size: number | undefined;
  if (i < end && value.charCodeAt(i) === 0x2a) {
    i++;
  } else {
    const length = number('complete-length');
    if (typeof length === 'string') return invalid(length);
    size = length;
  }
  if (i !== end) return invalid(`unexpected text after the complete-length in ${quote(value)}`);
  if (last < first) return invalid(`last-pos ${last} is before first-pos ${first}`);
  if (size !== undefined && last >= size) return invalid(`last-pos ${last} is not below the complete length ${size}`);
  return { kind: 'range', start: first, end: last, size };
}

function assertRange(range: unknown, size: number | undefined): asserts range is ByteRange {
  const ok = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
  if (typeof range === 'object' && range !== null) {
    const { start, end } = range as Record<string, unknown>;
    if (ok(start) && ok(end) && start <= end && (size === undefined || end < size)) return;
  }
  const bound = size === undefined ? '' : ` and end < size (${size})`;
  throw new TypeError(`range must be { start, end } with safe integers 0 <= start <= end${bound}; received ${quote(JSON.stringify(range) ?? String(range))}`);
}

/**
 * Writes a `Content-Range` value: a range with its size (or `*` when the size is unknown), or
 * `bytes *\/size` for a 416 when `range` is `undefined`.
 *
 * @throws {TypeError} when the range is not inside the size, a number is not a non-negative
 * safe integer, or both `range` and `size` are undefined (no valid value exists).
 * @example
 * formatContentRange({ start: 0, end: 499 }, 1234);  // 'bytes 0-499/1234'
 * formatContentRange(undefined, 1234);               // 'bytes *\/1234'
 * formatContentRange({ start: 0, end: 499 }, undefined); // 'bytes 0-499/*'
 */
export function formatContentRange(range: ByteRange | undefined, size: number | undefined): string {
  if (range === undefined) {
    if (size === undefined) throw new TypeError('formatContentRange needs a range, a size, or both; received neither');
    assertSize(size);
    return `bytes */${size}`;
  }
  if (size !== undefined) assertSize(size);
  assertRange(range, size);
  return `bytes ${range.start}-${range.end}/${size === undefined ? '*' : size}`;
}

/**
 * The headers of a 206 answer carrying one range of a representation of `size` bytes.
 *
 * @throws {TypeError} when the range is not inside the size.
 * @example
 * partialContentHeaders({ start: 21010, end: 47021 }, 47022);
 * // { 'content-range': 'bytes 21010-47021/47022', 'content-length': '26012' }
 */
export function partialContentHeaders(range: ByteRange, size: number): { 'content-range': string; 'content-length': string } {
  assertSize(size);
  assertRange(range, size);
  return { 'content-range': `bytes ${range.start}-${range.end}/${size}`, 'content-length': String(range.end - range.start + 1) };
}

/**
 * The headers of a 416 answer for a representation of `size` bytes.
 *
 * @throws {TypeError} when `size` is not a non-negative safe integer.
 * @example
 * unsatisfiableHeaders(47022); // { 'content-range': 'bytes *\/47022' }
 */
export function unsatisfiableHeaders(size: number): { 'content-range': string } {
  assertSize(size);
  return { 'content-range': `bytes */${size}` };
}
