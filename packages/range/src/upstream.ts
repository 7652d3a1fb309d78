import { parseContentRange, partialContentHeaders, unsatisfiableHeaders } from './content-range';
import { evaluateIfRange } from './if-range';
import { formatRangeSpec, parseRangeSpecs, resolveRangeSpec } from './range-header';
import type { ByteRange, RangeSpec } from './range-header';
import { assertHeader, parseDecimal, quote, trimOws } from './syntax';

/**
 * What the proxy asked the upstream and what the upstream answered.
 *
 * @example
 * const input: UpstreamRangeInput = { range: 'bytes=0-499', status: 206, contentRange: 'bytes 0-499/1234', contentLength: '500' };
 */
export interface UpstreamRangeInput {
  /** The Range the proxy forwarded (an output of `rangeToForward`); `undefined`/`null` if none. */
  range: string | undefined | null;
  /** The If-Range the proxy forwarded, if any. */
  ifRange?: string | null;
  /** The upstream's status code. */
  status: number;
  /** The upstream's `Content-Range`. */
  contentRange?: string | null;
  /** The upstream's `Content-Length`. */
  contentLength?: string | null;
  /** The upstream's `ETag`, to evaluate If-Range when the upstream ignored the Range. */
  etag?: string | null;
  /** The upstream's `Last-Modified`, to evaluate If-Range when the upstream ignored the Range. */
  lastModified?: string | null;
}

/**
 * What the proxy must answer, given what it asked and what the upstream answered.
 * - `pass`: forward status and body as they are (no Range asked; a 206 that matches the
 *   request; any status other than 200, 206 and 416).
 * - `slice`: the upstream ignored the Range and sent 200 with the whole body: answer 206 with
 *   `headers`, skip `range.start` bytes of the body and send `range.end - range.start + 1`.
 * - `full`: the upstream sent 200 and the Range must not be applied (If-Range did not match, or
 *   the length is unknown so no 206 can be built): pass the 200 as it is.
 * - `unsatisfiable`: answer 416 with `headers` (`bytes *\/size`); when the upstream's 416 gave no
 *   usable length, `size` is `undefined` and `headers` is empty (no valid Content-Range exists).
 * - `mismatch`: the upstream's answer is not the bytes asked for (a 206 with another range, a
 *   206 without a valid Content-Range, a Content-Length that contradicts the range, a 416 for a
 *   range its own length satisfies): never send these bytes; answer 502.
 *
 * @example
 * const verdict: UpstreamRangeVerdict = checkUpstreamRange({ range: 'bytes=0-499', status: 200, contentLength: '1234' });
 * // { kind: 'slice', range: { start: 0, end: 499 }, size: 1234,
 * //   headers: { 'content-range': 'bytes 0-499/1234', 'content-length': '500' } }
 */
export type UpstreamRangeVerdict =
  | { kind: 'pass' }
  | { kind: 'slice'; range: ByteRange; size: number; headers: { 'content-range': string; 'content-length': string } }
  | { kind: 'full' }
  | { kind: 'unsatisfiable'; size: number | undefined; headers: { 'content-range'?: string } }
  | { kind: 'mismatch'; reason: string };

function mismatch(reason: string): { kind: 'mismatch'; reason: string } {
  return { kind: 'mismatch', reason };
}

function readLength(value: string | undefined | null): number | undefined | 'invalid' {
  if (value === undefined || value === null) return undefined;
  const { start, end } = trimOws(value);
  return parseDecimal(value.slice(start, end)) ?? 'invalid';
}

/**
 * Checks a 206 against the one range the proxy asked for. The start must be the one asked for
 * (otherwise every byte would land at the wrong offset). The end must be the one asked for,
 * clamped to the complete length; only an open request (`bytes=N-`) may get a shorter window,
 * because CDNs commonly cap those and the client reads the window from Content-Range.
 */
function check206(spec: RangeSpec, contentRange: string | undefined | null, length: number | undefined): UpstreamRangeVerdict {
  const asked = formatRangeSpec(spec);
  if (contentRange === undefined || contentRange === null) {
    return mismatch(`upstream answered 206 to ${asked} without a Content-Range (a multipart answer to a single range, or a broken server)`);
  }
  const got = parseContentRange(contentRange);
  if (got.kind === 'invalid') return mismatch(`upstream answered 206 to ${asked} with an invalid Content-Range: ${got.reason}`);
  if (got.kind === 'unsatisfied') return mismatch(`upstream answered 206 to ${asked} with Content-Range ${quote(contentRange)}, which only a 416 may carry`);
  const { start, end, size } = got;
  const differs = (): UpstreamRangeVerdict => mismatch(`upstream answered ${quote(contentRange)} to ${asked}`);

  if (spec.kind === 'suffix') {
    // Without the complete length the position of a suffix cannot be checked.
    if (size === undefined) return mismatch(`upstream answered ${quote(contentRange)} to ${asked}: a suffix range needs the complete length to be checked`);
    const expected = resolveRangeSpec(spec, size);
    if (expected === undefined || start !== expected.start || end !== expected.end) return differs();
  } else {
    if (start !== spec.start) return differs();
    if (spec.end !== undefined) {
      const expectedEnd = size === undefined ? spec.end : Math.min(spec.end, size - 1);
      // With an unknown complete length, an end before the one asked for may be the real end.
      if (size === undefined ? end > expectedEnd : end !== expectedEnd) return differs();
    }
  }
  if (length !== undefined && length !== end - start + 1) {
    return mismatch(`upstream Content-Length ${length} contradicts Content-Range ${quote(contentRange)} (${end - start + 1} bytes)`);
  }
  return { kind: 'pass' };
}

/**
 * The proxy's question (issue 2): given the Range it forwarded and the upstream's answer, is the
 * answer the right bytes, and what must the proxy answer? See {@link UpstreamRangeVerdict}.
 *
 * - No Range forwarded: `pass`, except a 206 (bytes nobody asked for), which is a `mismatch`.
 * - 206: `pass` when its Content-Range is the range asked for (see above) and Content-Length, if
 *   any, is its length; `mismatch` otherwise.
 * - 200: the upstream ignored the Range. If an If-Range was forwarded and does not match the
 *   upstream's validators (strong comparison, exact date), `full`. Without a valid
 *   Content-Length the size is unknown: `full`. Otherwise the range is resolved against that
 *   length: `slice`, or `unsatisfiable` when it selects no byte (a suffix of a zero-length body
 *   is `full`: there is no byte to send and nothing to refuse).
 * - 416: `unsatisfiable` with the upstream's `bytes *\/size`; a `mismatch` if that size
 *   satisfies the range after all.
 * - Any other status: `pass`.
 *
 * @throws {TypeError} when `status` is not an integer from 100 to 599, a header is not a string,
 * or `range` is not exactly one valid range (it must come from `rangeToForward`).
 * @example
 * checkUpstreamRange({ range: 'bytes=0-499', status: 206, contentRange: 'bytes 0-499/1234', contentLength: '500' });
 * // { kind: 'pass' }
 * checkUpstreamRange({ range: 'bytes=500-', status: 200, contentLength: '1234' });
 * // { kind: 'slice', range: { start: 500, end: 1233 }, size: 1234,
 * //   headers: { 'content-range': 'bytes 500-1233/1234', 'content-length': '734' } }
 * checkUpstreamRange({ range: 'bytes=0-499', ifRange: '"v1"', status: 200, contentLength: '1234', etag: '"v2"' });
 * // { kind: 'full' }
 * checkUpstreamRange({ range: 'bytes=5000-', status: 416, contentRange: 'bytes *\/1234' });
 * // { kind: 'unsatisfiable', size: 1234, headers: { 'content-range': 'bytes *\/1234' } }
 * checkUpstreamRange({ range: 'bytes=500-999', status: 206, contentRange: 'bytes 0-499/1234' });
 * // { kind: 'mismatch', reason: 'upstream answered "bytes 0-499/1234" to bytes=500-999' }
 */
export function checkUpstreamRange(input: UpstreamRangeInput): UpstreamRangeVerdict {
  if (typeof input !== 'object' || input === null) {
    throw new TypeError(`input must be an object { range, status, ... }; received ${quote(input)}`);
  }
  const { range, ifRange, status, contentRange, contentLength, etag, lastModified } = input;
  if (typeof status !== 'number' || !Number.isInteger(status) || status < 100 || status > 599) {
    throw new TypeError(`input.status must be an integer from 100 to 599; received ${quote(status)}`);
  }
  assertHeader(range, 'input.range');
  assertHeader(ifRange, 'input.ifRange');
  assertHeader(contentRange, 'input.contentRange');
  assertHeader(contentLength, 'input.contentLength');
  assertHeader(etag, 'input.etag');
  assertHeader(lastModified, 'input.lastModified');

  const parsed = parseRangeSpecs(range, { maxRanges: 1 });
  if (parsed.kind === 'malformed') {
    throw new TypeError(`input.range must be exactly one valid byte range (an output of rangeToForward); received ${quote(range)}: ${parsed.reason}`);
  }
  const length = readLength(contentLength);

  if (parsed.kind === 'none') {
    return status === 206 ? mismatch('upstream answered 206 to a request without Range') : { kind: 'pass' };
  }
  const spec = parsed.specs[0] as RangeSpec;

  if (status === 206) {
    if (length === 'invalid') return mismatch(`upstream answered 206 with an invalid Content-Length ${quote(contentLength)}`);
    return check206(spec, contentRange, length);
  }

  if (status === 200) {
    if (ifRange !== undefined && ifRange !== null && !evaluateIfRange({ ifRange, etag, lastModified })) return { kind: 'full' };
    if (length === undefined || length === 'invalid') return { kind: 'full' };
    const selected = resolveRangeSpec(spec, length);
    if (selected === undefined) {
      if (spec.kind === 'suffix' && spec.length > 0 && length === 0) return { kind: 'full' };
      return { kind: 'unsatisfiable', size: length, headers: unsatisfiableHeaders(length) };
    }
    return { kind: 'slice', range: selected, size: length, headers: partialContentHeaders(selected, length) };
  }

  if (status === 416) {
    const got = parseContentRange(contentRange);
    if (got.kind !== 'unsatisfied') return { kind: 'unsatisfiable', size: undefined, headers: {} };
    if (resolveRangeSpec(spec, got.size) !== undefined) {
      return mismatch(`upstream answered 416 with ${quote(contentRange)} to ${formatRangeSpec(spec)}, which that length satisfies`);
    }
    return { kind: 'unsatisfiable', size: got.size, headers: unsatisfiableHeaders(got.size) };
  }

  return { kind: 'pass' };
}
