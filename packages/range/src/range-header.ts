import { assertHeader, assertSize, isDigit, isOws, isTchar, quote, readDigits, skipOws, trimOws } from './syntax';

/**
 * An inclusive byte range of a representation, already clamped to its size:
 * `0 <= start <= end <= size - 1`.
 *
 * @example
 * const firstKilobyte: ByteRange = { start: 0, end: 1023 };
 */
export interface ByteRange {
  start: number;
  end: number;
}

/**
 * What a `Range` header asks of a representation of known size.
 * - `none`: no header (or an empty one): serve the whole representation.
 * - `malformed`: not a valid `bytes` ranges-specifier (syntax error, unknown unit, too many
 *   ranges): RFC 9110 §14.2 says to ignore the header, so serve the whole representation (200).
 * - `unsatisfiable`: valid, but no range overlaps the representation: answer 416.
 * - `ranges`: the satisfiable ranges, clamped to the size; in request order, or ascending and
 *   coalesced with `combine`.
 *
 * @example
 * const result: RangeResult = parseRangeHeader('bytes=0-499', 10000);
 * if (result.kind === 'ranges') console.log(result.ranges); // [ { start: 0, end: 499 } ]
 */
export type RangeResult =
  | { kind: 'none' }
  | { kind: 'malformed'; reason: string }
  | { kind: 'unsatisfiable' }
  | { kind: 'ranges'; ranges: ByteRange[] };

/**
 * One `range-spec` of a `bytes` Range header, before it meets a size:
 * `from` is an int-range (`500-999`, or `500-` without `end`), `suffix` a suffix-range (`-500`).
 *
 * @example
 * const lastFiveHundred: RangeSpec = { kind: 'suffix', length: 500 };
 * const fromByte500: RangeSpec = { kind: 'from', start: 500 };
 */
export type RangeSpec = { kind: 'from'; start: number; end?: number } | { kind: 'suffix'; length: number };

/**
 * The outcome of {@link parseRangeSpecs}: like {@link RangeResult} without a size.
 *
 * @example
 * const specs: RangeSpecsResult = parseRangeSpecs('bytes=0-0,-1');
 * // { kind: 'specs', specs: [ { kind: 'from', start: 0, end: 0 }, { kind: 'suffix', length: 1 } ] }
 */
export type RangeSpecsResult = { kind: 'none' } | { kind: 'malformed'; reason: string } | { kind: 'specs'; specs: RangeSpec[] };

/**
 * Options of {@link parseRangeSpecs}.
 *
 * @example
 * const options: ParseRangeSpecsOptions = { maxRanges: 10 };
 */
export interface ParseRangeSpecsOptions {
  /**
   * The most range-specs accepted (default {@link DEFAULT_MAX_RANGES}; `Infinity` for no cap).
   * A header with more is `malformed` and parsing stops at the first spec beyond the cap, so a
   * header of 10,000 tiny ranges costs the work of `maxRanges + 1` specs.
   */
  maxRanges?: number;
}

/**
 * Options of {@link parseRangeHeader}.
 *
 * @example
 * const options: ParseRangeOptions = { combine: true, maxRanges: 10 };
 */
export interface ParseRangeOptions extends ParseRangeSpecsOptions {
  /** Coalesce overlapping and adjacent ranges; the result is then in ascending order. */
  combine?: boolean;
}

/**
 * The default cap on range-specs per header. RFC 9110 §14.2 lets a server ignore a Range header
 * made of many small ranges (a denial-of-service pattern); 100 is far above what players send
 * (one range) and far below what makes parsing cost measurable.
 *
 * @example
 * parseRangeSpecs(`bytes=${'0-0,'.repeat(101)}`).kind; // 'malformed'
 */
export const DEFAULT_MAX_RANGES = 100;

// The scanner reports each spec through a callback with numbers only, so that a caller can
// resolve ranges on the fly and nothing is allocated for specs that end up discarded.
type Visit = (suffix: boolean, first: number, last: number) => void;
type Scan = { kind: 'none' } | { kind: 'malformed'; reason: string } | { kind: 'ok'; count: number };

function malformed(reason: string): { kind: 'malformed'; reason: string } {
  return { kind: 'malformed', reason };
}

function isBytesUnit(text: string, from: number, to: number): boolean {
  // Range units are case-insensitive (RFC 9110 §14.1); compared without allocating a lowered copy.
  if (to - from !== 5) return false;
  const word = 'bytes';
  for (let k = 0; k < 5; k++) {
    if ((text.charCodeAt(from + k) | 0x20) !== word.charCodeAt(k)) return false;
  }
  return true;
}

function readMaxRanges(options: ParseRangeSpecsOptions | undefined): number {
  if (options === undefined) return DEFAULT_MAX_RANGES;
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`options must be an object; received ${quote(options)}`);
  }
  const { maxRanges } = options;
  if (maxRanges === undefined) return DEFAULT_MAX_RANGES;
  if (typeof maxRanges !== 'number' || !(maxRanges === Infinity || (Number.isSafeInteger(maxRanges) && maxRanges >= 1))) {
    throw new TypeError(`options.maxRanges must be a positive integer or Infinity; received ${quote(maxRanges)}`);
  }
  return maxRanges;
}

function describeAt(text: string, at: number, to: number): string {
  return at >= to ? 'the end of the header' : quote(text.slice(at, to), 20);
}

/**
 * Walks a Range header per RFC 9110 §14.1.1 (`ranges-specifier = range-unit "=" range-set`,
 * `range-set = 1#range-spec`) with the recipient list rule of §5.6.1.2
 * (`*( "," OWS ) element *( OWS "," [ OWS element ] )`): OWS only around commas, empty
 * elements ignored, nothing else tolerated.
 */
function scanRangeHeader(header: string | undefined | null, maxRanges: number, visit: Visit): Scan {
  if (header === undefined || header === null) return { kind: 'none' };
  const { start: begin, end } = trimOws(header);
  if (begin === end) return { kind: 'none' };

  let i = begin;
  while (i < end && isTchar(header.charCodeAt(i))) i++;
  if (i === begin) {
    return malformed(`expected a range unit (a token) before "=", received ${describeAt(header, begin, end)}`);
  }
  if (i === end || header.charCodeAt(i) !== 0x3d) {
    return malformed(`expected "=" after the range unit, received ${describeAt(header, i, end)}`);
  }
  if (!isBytesUnit(header, begin, i)) {
    return malformed(`unsupported range unit ${quote(header.slice(begin, i), 20)}: only "bytes" is defined`);
  }
  i++;
  if (i < end && isOws(header.charCodeAt(i))) {
    return malformed('expected a range-spec right after "=", received whitespace');
  }

  const digits: [number, number] = [0, 0];
  let count = 0;
  while (i < end) {
    const code = header.charCodeAt(i);
    if (code === 0x2c) {
      i = skipOws(header, i + 1, end); // an empty list element
      continue;
    }
    if (count === maxRanges) {
      return malformed(`more than ${maxRanges} ranges in one header`);
    }
    const specStart = i;
    if (code === 0x2d) {
      readDigits(header, i + 1, end, digits);
      if (digits[1] === -1) return malformed(`expected digits after "-" in ${describeAt(header, specStart, end)}`);
      if (digits[1] === -2) return malformed(`suffix-length beyond ${Number.MAX_SAFE_INTEGER} in ${describeAt(header, specStart, end)}`);
      i = digits[0];
      count++;
      visit(true, digits[1], -1);
    } else if (isDigit(code)) {
      readDigits(header, i, end, digits);
      if (digits[1] === -2) return malformed(`first-pos beyond ${Number.MAX_SAFE_INTEGER} in ${describeAt(header, specStart, end)}`);
      const first = digits[1];
      i = digits[0];
      if (i === end || header.charCodeAt(i) !== 0x2d) {
        return malformed(`expected "-" after the first-pos, received ${describeAt(header, i, end)}`);
      }
      readDigits(header, i + 1, end, digits);
      if (digits[1] === -2) return malformed(`last-pos beyond ${Number.MAX_SAFE_INTEGER} in ${describeAt(header, specStart, end)}`);
      const last = digits[1];
      i = digits[0];
      if (last !== -1 && last < first) {
        return malformed(`last-pos ${last} is before first-pos ${first}: the whole header is invalid (RFC 9110 §14.1.1)`);
      }
      count++;
      visit(false, first, last);
    } else {
      return malformed(`expected a range-spec (digits or "-"), received ${describeAt(header, i, end)}`);
    }
    const next = skipOws(header, i, end);
    if (next === end) break;
    if (header.charCodeAt(next) !== 0x2c) {
      return malformed(`expected "," or the end after a range-spec, received ${describeAt(header, next, end)}`);
    }
    i = skipOws(header, next + 1, end);
  }
  if (count === 0) return malformed('expected at least one range-spec after "bytes="');
  return { kind: 'ok', count };
}

function resolveBounds(suffix: boolean, first: number, last: number, size: number): ByteRange | undefined {
  if (suffix) {
    if (first === 0 || size === 0) return undefined;
    return { start: first >= size ? 0 : size - first, end: size - 1 };
  }
  if (first >= size) return undefined;
  return { start: first, end: last === -1 || last >= size ? size - 1 : last };
}

function combineInPlace(ranges: ByteRange[]): ByteRange[] {
  ranges.sort((a, b) => a.start - b.start || a.end - b.end);
  let kept = 0;
  for (let k = 1; k < ranges.length; k++) {
    const current = ranges[kept] as ByteRange;
    const next = ranges[k] as ByteRange;
    if (next.start <= current.end + 1) {
      if (next.end > current.end) current.end = next.end;
    } else {
      ranges[++kept] = next;
    }
  }
  ranges.length = ranges.length === 0 ? 0 : kept + 1;
  return ranges;
}

/**
 * Parses a `Range` header against a representation of `size` bytes (RFC 9110 §14.1–14.2).
 *
 * Exact to the ABNF: the unit is compared case-insensitively, OWS is allowed only around commas,
 * empty list elements are ignored, and anything else (an unknown unit, `bytes =0-1`,
 * `bytes=0 - 1`, a last-pos before its first-pos, a number beyond `Number.MAX_SAFE_INTEGER`,
 * more than `maxRanges` ranges) makes the whole header `malformed`. Unsatisfiable specs among
 * satisfiable ones are dropped. A zero-length representation has no byte to send, so a suffix
 * range (satisfiable per §14.1.2) yields `none`: serve the empty representation with 200.
 *
 * @throws {TypeError} when `size` is not a non-negative safe integer, `header` is not a string,
 * or an option is invalid.
 * @example
 * parseRangeHeader('bytes=0-499', 10000);
 * // { kind: 'ranges', ranges: [ { start: 0, end: 499 } ] }
 * parseRangeHeader('bytes=-500', 10000);
 * // { kind: 'ranges', ranges: [ { start: 9500, end: 9999 } ] }
 * parseRangeHeader('bytes=500-600,601-999', 10000, { combine: true });
 * // { kind: 'ranges', ranges: [ { start: 500, end: 999 } ] }
 * parseRangeHeader('bytes=20000-', 10000); // { kind: 'unsatisfiable' }
 * parseRangeHeader('items=0-5', 10000);
 * // { kind: 'malformed', reason: 'unsupported range unit "items": only "bytes" is defined' }
 */
export function parseRangeHeader(header: string | undefined | null, size: number, options?: ParseRangeOptions): RangeResult {
  assertHeader(header, 'header');
  assertSize(size);
  const maxRanges = readMaxRanges(options);
  const combine = options?.combine ?? false;
  if (typeof combine !== 'boolean') {
    throw new TypeError(`options.combine must be a boolean; received ${quote(combine)}`);
  }

  const ranges: ByteRange[] = [];
  let emptyButSatisfiable = false;
  const scan = scanRangeHeader(header, maxRanges, (suffix, first, last) => {
    const range = resolveBounds(suffix, first, last, size);
    if (range !== undefined) ranges.push(range);
    else if (suffix && size === 0 && first > 0) emptyButSatisfiable = true;
  });
  if (scan.kind !== 'ok') return scan;
  if (ranges.length === 0) return emptyButSatisfiable ? { kind: 'none' } : { kind: 'unsatisfiable' };
  return { kind: 'ranges', ranges: combine ? combineInPlace(ranges) : ranges };
}

/**
 * Parses a `Range` header without knowing the size: for a proxy that must decide what to ask
 * the upstream before the upstream says how long the representation is. Same grammar and
 * `maxRanges` cap as {@link parseRangeHeader}; satisfiability is left to {@link resolveRangeSpec}.
 *
 * @throws {TypeError} when `header` is not a string or an option is invalid.
 * @example
 * parseRangeSpecs('bytes=9500-');     // { kind: 'specs', specs: [ { kind: 'from', start: 9500 } ] }
 * parseRangeSpecs('bytes=0-0, -1');
 * // { kind: 'specs', specs: [ { kind: 'from', start: 0, end: 0 }, { kind: 'suffix', length: 1 } ] }
 * parseRangeSpecs('bytes=5-1');
 * // { kind: 'malformed', reason: 'last-pos 1 is before first-pos 5: the whole header is invalid (RFC 9110 §14.1.1)' }
 */
export function parseRangeSpecs(header: string | undefined | null, options?: ParseRangeSpecsOptions): RangeSpecsResult {
  assertHeader(header, 'header');
  const maxRanges = readMaxRanges(options);
  const specs: RangeSpec[] = [];
  const scan = scanRangeHeader(header, maxRanges, (suffix, first, last) => {
    if (suffix) specs.push({ kind: 'suffix', length: first });
    else if (last === -1) specs.push({ kind: 'from', start: first });
    else specs.push({ kind: 'from', start: first, end: last });
  });
  if (scan.kind !== 'ok') return scan;
  return { kind: 'specs', specs };
}

function assertSpec(spec: unknown): asserts spec is RangeSpec {
  const ok = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
  if (typeof spec === 'object' && spec !== null) {
    const s = spec as Record<string, unknown>;
    if (s.kind === 'suffix' && ok(s.length)) return;
    if (s.kind === 'from' && ok(s.start) && (s.end === undefined || (ok(s.end) && s.end >= s.start))) return;
  }
  throw new TypeError(
    `spec must be { kind: 'from', start, end? } with 0 <= start <= end or { kind: 'suffix', length } (safe integers); received ${quote(JSON.stringify(spec) ?? String(spec))}`,
  );
}

/**
 * Resolves one {@link RangeSpec} against a representation of `size` bytes: the clamped
 * {@link ByteRange}, or `undefined` when it selects no byte (a start at or past the end,
 * `-0`, or any range of a zero-length representation).
 *
 * @throws {TypeError} when `size` or `spec` is invalid.
 * @example
 * resolveRangeSpec({ kind: 'from', start: 9500 }, 10000);        // { start: 9500, end: 9999 }
 * resolveRangeSpec({ kind: 'from', start: 0, end: 99999 }, 10000); // { start: 0, end: 9999 }
 * resolveRangeSpec({ kind: 'suffix', length: 20000 }, 10000);     // { start: 0, end: 9999 }
 * resolveRangeSpec({ kind: 'from', start: 10000 }, 10000);        // undefined
 */
export function resolveRangeSpec(spec: RangeSpec, size: number): ByteRange | undefined {
  assertSpec(spec);
  assertSize(size);
  if (spec.kind === 'suffix') return resolveBounds(true, spec.length, -1, size);
  return resolveBounds(false, spec.start, spec.end ?? -1, size);
}

/**
 * Writes one {@link RangeSpec} as a Range header value.
 *
 * @throws {TypeError} when `spec` is invalid.
 * @example
 * formatRangeSpec({ kind: 'from', start: 0, end: 499 }); // 'bytes=0-499'
 * formatRangeSpec({ kind: 'from', start: 9500 });        // 'bytes=9500-'
 * formatRangeSpec({ kind: 'suffix', length: 500 });      // 'bytes=-500'
 */
export function formatRangeSpec(spec: RangeSpec): string {
  assertSpec(spec);
  if (spec.kind === 'suffix') return `bytes=-${spec.length}`;
  return spec.end === undefined ? `bytes=${spec.start}-` : `bytes=${spec.start}-${spec.end}`;
}

/**
 * The `Range` a proxy should send upstream for a client's `Range`: the same request in
 * normalised text when it is exactly one valid range, otherwise `undefined` (send no Range, get
 * the whole body, answer 200).
 *
 * Why not forward several ranges: the upstream may answer them as `multipart/byteranges`, as a
 * coalesced single range, or as 200, and each part would have to be checked before any byte
 * reaches the client; players (ffmpeg, browsers, Jellyfin) send one range, and RFC 9110 §14.2
 * lets any server ignore Range, so the whole body with 200 is always a correct answer.
 * A malformed header is not forwarded because the RFC says to ignore it: forwarding would let
 * an upstream guess at it.
 *
 * @throws {TypeError} when `header` is not a string.
 * @example
 * rangeToForward('BYTES=0-499');     // 'bytes=0-499'
 * rangeToForward('bytes=,9500-');    // 'bytes=9500-'
 * rangeToForward('bytes=0-0,-1');    // undefined (two ranges)
 * rangeToForward('bytes=5-1');       // undefined (malformed)
 * rangeToForward(undefined);         // undefined
 */
export function rangeToForward(header: string | undefined | null): string | undefined {
  const parsed = parseRangeSpecs(header, { maxRanges: 1 });
  if (parsed.kind !== 'specs' || parsed.specs.length !== 1) return undefined;
  return formatRangeSpec(parsed.specs[0] as RangeSpec);
}
