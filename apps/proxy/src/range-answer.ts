import { checkUpstreamRange, parseContentRange } from '@strm/range';
import { isBodyless } from './body-pump';
import { ProxyError } from './errors';
import { passedResponseHeaders, type HeaderBag } from './upstream';

/**
 * What the client asked for, as far as the answer depends on it: the method, and the one Range
 * (an output of `rangeToForward`) and If-Range the proxy forwards.
 */
export interface ClientAsk {
  method: 'GET' | 'HEAD';
  range?: string | undefined;
  ifRange?: string | undefined;
}

/** The status line and headers of an upstream answer (its body is not needed to plan). */
export interface UpstreamHead {
  status: number;
  headers: HeaderBag;
}

/**
 * What the client gets for a media resource, decided before a byte of the body moves:
 * - `send`: answer `status` with `headers`; drop the first `skip` bytes of the upstream body and
 *   send the resource's bytes `first` to `last` (`last` undefined: until the body ends). With
 *   `bodyless` (HEAD, 204, 304) no body is sent at all.
 * - `refuse`: answer with `error` (a 416 with `bytes *\/size`, a 502 for wrong bytes).
 *
 * @example
 * planMediaAnswer({ method: 'GET', range: 'bytes=0-99' }, { status: 200, headers: { 'content-length': '1000' } });
 * // { kind: 'send', status: 206, skip: 0, first: 0, last: 99, bodyless: false,
 * //   headers: { 'content-length': '100', 'content-range': 'bytes 0-99/1000', 'accept-ranges': 'bytes' } }
 */
export type MediaAnswer =
  | { kind: 'send'; status: number; headers: Record<string, string>; bodyless: boolean; skip: number; first: number; last: number | undefined }
  | { kind: 'refuse'; error: ProxyError };

const header = (headers: HeaderBag, name: string): string | undefined => {
  const value = headers[name];
  return typeof value === 'string' ? value : undefined;
};

/**
 * The statuses the proxy passes on: 2xx, 304 and 416. Any other 4xx/5xx (one that outlived the
 * refresh) is answered as a JSON error carrying the upstream's own status; 1xx and 3xx become 502.
 *
 * @example
 * refusedUpstreamStatus(410)?.status // 410
 * refusedUpstreamStatus(206)         // undefined
 */
export function refusedUpstreamStatus(status: number): ProxyError | undefined {
  if (status >= 400 && status !== 416) {
    return new ProxyError('STRM_UPSTREAM_FAILED', `the upstream answered ${status}`, { status });
  }
  if (status < 200 || (status >= 300 && status !== 304 && status !== 416)) {
    return new ProxyError('STRM_UPSTREAM_FAILED', `the upstream answered ${status}`);
  }
  return undefined;
}

/** The range verdict of `@strm/range` for this ask and this upstream head. */
function rangeVerdict(ask: Omit<ClientAsk, 'method'>, upstream: UpstreamHead) {
  return checkUpstreamRange({
    range: ask.range,
    ifRange: ask.ifRange,
    status: upstream.status,
    contentRange: header(upstream.headers, 'content-range'),
    contentLength: header(upstream.headers, 'content-length'),
    etag: header(upstream.headers, 'etag'),
    lastModified: header(upstream.headers, 'last-modified'),
  });
}

/** The resource offsets a passed-through answer covers: its Content-Range, or 0 to its length. */
function passedWindow(upstream: UpstreamHead): { first: number; last: number | undefined } {
  if (upstream.status === 206) {
    const range = parseContentRange(header(upstream.headers, 'content-range'));
    if (range.kind !== 'range') return { first: 0, last: undefined };
    // A resource still being written (a low-latency part behind a preload hint) answers an open
    // range with an indeterminate length (RFC 8673: `bytes 100-9007199254740991/*`, no
    // Content-Length): its body ends where the resource does.
    const indeterminate = range.size === undefined && header(upstream.headers, 'content-length') === undefined;
    return { first: range.start, last: indeterminate ? undefined : range.end };
  }
  const length = header(upstream.headers, 'content-length');
  return { first: 0, last: length !== undefined && /^\d+$/.test(length) ? Number(length) - 1 : undefined };
}

/**
 * Plans the answer to a media request: an upstream 206 is checked against the Range asked for, a
 * 200 to a Range request is sliced into a 206, a 416 keeps `bytes *\/size`, and bytes other than
 * those asked for are refused (never sent). The proxy says `Accept-Ranges: bytes` on every 200
 * and 206, since it slices for origins that do not.
 */
export function planMediaAnswer(ask: ClientAsk, upstream: UpstreamHead): MediaAnswer {
  const verdict = rangeVerdict(ask, upstream);
  if (verdict.kind === 'unsatisfiable') {
    return { kind: 'refuse', error: new ProxyError('STRM_RANGE_NOT_SATISFIABLE', 'the requested range lies outside the resource', { headers: verdict.headers }) };
  }
  if (verdict.kind === 'mismatch') {
    // The reason quotes the upstream's Content-Range: for the log (the cause), not for the client.
    const error = new ProxyError('STRM_UPSTREAM_BAD_RANGE', 'the upstream answered with other bytes than were asked for', { cause: new Error(verdict.reason) });
    return { kind: 'refuse', error };
  }
  if (verdict.kind === 'pass' && upstream.status === 416) {
    // No range was asked for, so there is no `bytes */size` the client could act on, and the
    // upstream's body is no JSON error: the upstream is at fault.
    return { kind: 'refuse', error: new ProxyError('STRM_UPSTREAM_BAD_RANGE', 'the upstream answered 416 to a request without Range') };
  }
  const headers = passedResponseHeaders(upstream.headers);
  let status = upstream.status;
  let window: { first: number; last: number | undefined };
  let skip = 0;
  if (verdict.kind === 'slice') {
    status = 206;
    Object.assign(headers, verdict.headers);
    skip = verdict.range.start;
    window = { first: verdict.range.start, last: verdict.range.end };
  } else {
    window = passedWindow(upstream);
  }
  if (status === 200 || status === 206) headers['accept-ranges'] = 'bytes';
  return { kind: 'send', status, headers, bodyless: isBodyless(ask.method, status), skip, ...window };
}

/**
 * Checks the answer to a resume request (`Range: bytes=N-[M]`, `If-Range`): the rest of the same
 * representation, as a 206 or as a 200 to slice; anything else (the resource changed, other
 * bytes) cannot be appended. Returns the bytes of its body to skip, or undefined.
 *
 * @example
 * planResumedBody({ range: 'bytes=500-999', ifRange: '"v1"' }, { status: 206, headers: { 'content-range': 'bytes 500-999/1000' } })
 * // { skip: 0 }
 * planResumedBody({ range: 'bytes=500-999', ifRange: '"v1"' }, { status: 200, headers: { etag: '"v2"', 'content-length': '1000' } })
 * // undefined
 */
export function planResumedBody(ask: Omit<ClientAsk, 'method'>, upstream: UpstreamHead): { skip: number } | undefined {
  const verdict = rangeVerdict(ask, upstream);
  if (verdict.kind === 'pass' && upstream.status === 206) return { skip: 0 };
  if (verdict.kind === 'slice') return { skip: verdict.range.start };
  return undefined;
}

/**
 * The head of the whole resource, rebuilt from the answer to a one-byte probe (`Range: bytes=0-0`)
 * sent to an origin that refuses HEAD: a 206 becomes a 200 whose Content-Length is the complete
 * length of its Content-Range (none when that length is unknown). Other answers stand as they are.
 *
 * @example
 * headOfWholeFromProbe({ status: 206, headers: { 'content-range': 'bytes 0-0/1234', 'content-length': '1' } })
 * // { status: 200, headers: { 'content-length': '1234', 'accept-ranges': 'bytes' } }
 */
export function headOfWholeFromProbe(probe: UpstreamHead): UpstreamHead {
  if (probe.status !== 206) return probe;
  const range = parseContentRange(header(probe.headers, 'content-range'));
  const headers = { ...probe.headers };
  delete headers['content-range'];
  if (range.kind !== 'invalid' && range.size !== undefined) headers['content-length'] = String(range.size);
  else delete headers['content-length'];
  headers['accept-ranges'] = 'bytes';
  return { status: 200, headers };
}

/**
 * Whether an answer carries the whole resource: anything but a 206, or a 206 whose range runs
 * from the first byte to the last. A playlist is rewritten whole, so only such an answer will do.
 */
export function isWholeResource(upstream: UpstreamHead): boolean {
  if (upstream.status !== 206) return true;
  const range = parseContentRange(String(upstream.headers['content-range'] ?? ''));
  return range.kind === 'range' && range.start === 0 && range.size !== undefined && range.end === range.size - 1;
}
