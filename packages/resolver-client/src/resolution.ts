import type { EpisodeIdentity } from './identity';
import { describeValue, type FieldProblem } from './identity';
import type { EpochMilliseconds } from './time';

/**
 * Where an episode can be fetched right now: an absolute http(s) `url`, the request headers the
 * upstream needs (often a `Referer`), the provider that served it, and when the URL stops working
 * (`expiresAt`, milliseconds since the epoch) when the resolver knows it.
 *
 * @example
 * ```ts
 * const resolution: Resolution = {
 *   url: 'https://cdn.example/hls/master.m3u8?token=abc',
 *   headers: { Referer: 'https://voe.example/' },
 *   provider: 'VOE',
 *   expiresAt: Date.parse('2025-01-01T12:00:00Z'),
 * };
 * ```
 */
export interface Resolution {
  url: string;
  headers: Record<string, string>;
  provider?: string;
  expiresAt?: EpochMilliseconds;
}

/**
 * Anything that turns an identity into a {@link Resolution}: the HTTP resolver, the static file,
 * or your own. It is raw: no cache, no deduplication; {@link createResolverClient} adds those.
 * `refresh: true` asks it to bypass any cache of its own. It fails with a `ResolverError`
 * (`STRM_RESOLVER_NOT_FOUND` for an unknown episode); the client turns any other error into
 * `STRM_RESOLVER_UNAVAILABLE`.
 *
 * @example
 * ```ts
 * const source: ResolutionSource = {
 *   async resolve(identity, { refresh }) {
 *     return { url: `https://cdn.example/${identity.slug}/${identity.season}x${identity.episode}.mp4`, headers: {} };
 *   },
 * };
 * ```
 */
export interface ResolutionSource {
  resolve(identity: EpisodeIdentity, options: { refresh: boolean; signal?: AbortSignal }): Promise<Resolution>;
}

// RFC 9110 5.6.2 tchar.
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// RFC 9110 5.5 field-vchar, SP and HTAB; no CR, LF, NUL or other controls (undici refuses them too).
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/** @internal The first problem of a `url` value, or undefined when it is an absolute http(s) URL. */
export function urlProblem(value: unknown): FieldProblem | undefined {
  const expected = 'must be an absolute http(s) URL';
  if (typeof value !== 'string') return { field: 'url', expected, received: describeValue(value) };
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    // Only the length: the text may be a tokenised URL that is merely malformed.
    return { field: 'url', expected, received: `a string of ${value.length} characters that is not an absolute URL` };
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    return { field: 'url', expected, received: `a URL with scheme ${JSON.stringify(parsed.protocol.slice(0, 20))}` };
  }
  return undefined;
}

/** @internal Validates a header map: names are tokens, values are strings without controls. */
export function headersProblem(value: unknown): FieldProblem | { headers: Record<string, string> } {
  if (value === undefined || value === null) return { headers: {} };
  if (typeof value !== 'object' || Array.isArray(value)) {
    return { field: 'headers', expected: 'must be an object mapping header names to strings', received: describeValue(value) };
  }
  const headers: Record<string, string> = {};
  const seen = new Set<string>();
  for (const [name, headerValue] of Object.entries(value)) {
    const field = `headers[${JSON.stringify(name.slice(0, 60))}]`;
    if (!HEADER_NAME.test(name)) {
      return { field, expected: 'must have a header name made of RFC 9110 token characters', received: 'an invalid name' };
    }
    if (seen.has(name.toLowerCase())) {
      return { field, expected: 'must appear once (header names are case-insensitive)', received: 'a duplicate name' };
    }
    seen.add(name.toLowerCase());
    // Values are never echoed: cookies and tokens travel in them.
    if (typeof headerValue !== 'string') {
      return { field, expected: 'must be a string', received: headerValue === null ? 'null' : `a value of type ${Array.isArray(headerValue) ? 'array' : typeof headerValue}` };
    }
    if (!HEADER_VALUE.test(headerValue)) {
      return { field, expected: 'must be a string without CR, LF or other control characters', received: 'a value with such characters' };
    }
    headers[name] = headerValue;
  }
  return { headers };
}

const ISO_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?([Zz]|[+-]\d{2}(?::?\d{2})?)$/;

/**
 * Parses an ISO 8601 / RFC 3339 date-time with a UTC offset (`Z`, `+02:00`, `+0200` or `+02`)
 * into milliseconds since the epoch, or returns undefined. A date-time without an offset is
 * refused: it names no instant, and guessing a time zone would move expiries by hours.
 *
 * @example
 * ```ts
 * parseIsoDateTime('2025-01-01T12:00:00+01:00'); // 1735729200000
 * parseIsoDateTime('2025-01-01T12:00:00');       // undefined
 * ```
 */
export function parseIsoDateTime(text: string): number | undefined {
  const match = ISO_DATE_TIME.exec(text);
  if (match === null) return undefined;
  const [, y, mo, d, h, mi, s = '0', fraction = '', offset = 'Z'] = match;
  const year = Number(y), month = Number(mo), day = Number(d), hour = Number(h), minute = Number(mi), second = Number(s);
  if (month < 1 || month > 12 || hour > 23 || minute > 59 || second > 60) return undefined;
  if (day < 1 || day > new Date(Date.UTC(year, month, 0)).getUTCDate()) return undefined;
  let offsetMinutes = 0;
  if (offset !== 'Z' && offset !== 'z') {
    const digits = offset.slice(1).replace(':', '');
    const offsetHours = Number(digits.slice(0, 2));
    const offsetMins = digits.length > 2 ? Number(digits.slice(2, 4)) : 0;
    if (offsetHours > 23 || offsetMins > 59) return undefined;
    offsetMinutes = (offset.startsWith('-') ? -1 : 1) * (offsetHours * 60 + offsetMins);
  }
  const millis = fraction === '' ? 0 : Math.floor(Number(`0.${fraction}`) * 1000);
  // Date.UTC maps years 0-99 to 1900-1999; setUTCFullYear keeps them as written.
  const date = new Date(Date.UTC(2000, month - 1, day, hour, minute, second, millis));
  date.setUTCFullYear(year);
  return date.getTime() - offsetMinutes * 60_000;
}

/**
 * @internal Validates the body of a resolver answer (or a static entry) into a Resolution.
 * `null` counts as absent for the optional fields, because resolvers written in Python or Go
 * serialise missing values that way.
 */
export function resolutionFromRecord(
  record: Record<string, unknown>,
  options: { expiresAt: boolean },
): FieldProblem | { resolution: Resolution } {
  const url = urlProblem(record['url']);
  if (url !== undefined) return url;
  const headers = headersProblem(record['headers']);
  if (!('headers' in headers)) return headers;
  const resolution: Resolution = { url: record['url'] as string, headers: headers.headers };
  const provider = record['provider'];
  if (provider !== undefined && provider !== null) {
    if (typeof provider !== 'string' || provider === '') {
      return { field: 'provider', expected: 'must be absent, null or a non-empty string', received: describeValue(provider) };
    }
    resolution.provider = provider;
  }
  const expiresAt = record['expiresAt'];
  if (options.expiresAt && expiresAt !== undefined && expiresAt !== null) {
    const parsed = typeof expiresAt === 'string' ? parseIsoDateTime(expiresAt) : undefined;
    if (parsed === undefined || !Number.isFinite(parsed)) {
      return { field: 'expiresAt', expected: 'must be absent, null or an ISO 8601 date-time with an offset (2025-01-01T12:00:00Z)', received: describeValue(expiresAt) };
    }
    resolution.expiresAt = parsed;
  }
  return { resolution };
}

/**
 * @internal Checks a resolution handed over by any source (custom sources included) and returns a
 * clean copy of it.
 */
export function checkResolution(value: unknown): FieldProblem | { resolution: Resolution } {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { field: '', expected: 'must be an object', received: describeValue(value) };
  }
  const record = value as Record<string, unknown>;
  const checked = resolutionFromRecord(record, { expiresAt: false });
  if (!('resolution' in checked)) return checked;
  const expiresAt = record['expiresAt'];
  if (expiresAt !== undefined && expiresAt !== null) {
    if (typeof expiresAt !== 'number' || !Number.isFinite(expiresAt)) {
      return { field: 'expiresAt', expected: 'must be absent or a finite number of milliseconds since the epoch', received: describeValue(expiresAt) };
    }
    checked.resolution.expiresAt = expiresAt;
  }
  return checked;
}

/** @internal A deep copy, so that no caller can change what another caller or the cache holds. */
export function copyResolution(resolution: Resolution): Resolution {
  const copy: Resolution = { url: resolution.url, headers: { ...resolution.headers } };
  if (resolution.provider !== undefined) copy.provider = resolution.provider;
  if (resolution.expiresAt !== undefined) copy.expiresAt = resolution.expiresAt;
  return copy;
}
