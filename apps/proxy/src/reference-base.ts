/**
 * Where the URIs of a rewritten playlist point: the proxy's public base URL as the client that
 * asked for the playlist reaches it. Pure functions of the request's headers, table-tested.
 *
 * The rule, in order:
 * 1. `STRM_PUBLIC_BASE_URL`, when configured, is the base; request headers are not read.
 * 2. Otherwise scheme, host and path prefix come from the request itself: RFC 7239 `Forwarded`
 *    (`proto`, `host` of its first element), else `X-Forwarded-Proto` / `X-Forwarded-Host` /
 *    `X-Forwarded-Port` (first value of each), else the socket's scheme and `Host`; the prefix from
 *    `X-Forwarded-Prefix`. The URIs are absolute, so they reach the proxy even when a media server
 *    fetched the playlist and relays it under its own URL (relative URIs would resolve there).
 * 3. A request without `Host` (HTTP/1.0) gets relative URIs, as before.
 *
 * Every value is checked against a strict grammar; a value outside it is refused (the caller
 * answers 400), so no header can put a quote, a comma or a line break into a playlist.
 */

/** The request facts the base depends on (header values as Node gives them). */
export interface BaseRequest {
  host?: string | string[] | undefined;
  forwarded?: string | string[] | undefined;
  'x-forwarded-proto'?: string | string[] | undefined;
  'x-forwarded-host'?: string | string[] | undefined;
  'x-forwarded-port'?: string | string[] | undefined;
  'x-forwarded-prefix'?: string | string[] | undefined;
  /** True when the request came over TLS to the proxy itself. */
  encrypted: boolean;
}

/** The headers a derived base depends on: a shared cache must keep one playlist per combination. */
export const BASE_VARY_HEADERS = 'Host, Forwarded, X-Forwarded-Proto, X-Forwarded-Host, X-Forwarded-Port, X-Forwarded-Prefix';

/** The names of the headers read, as they appear in an error. */
export type BaseHeader = 'host' | 'forwarded' | 'x-forwarded-proto' | 'x-forwarded-host' | 'x-forwarded-port' | 'x-forwarded-prefix';

/**
 * - `configured`: `STRM_PUBLIC_BASE_URL`; `fromRequest`: built from the request's headers (its
 *   playlists vary with them); `relative`: no `Host`, relative references.
 * - `invalid`: a header the base would be built from is malformed.
 */
export type ReferenceBase =
  | { kind: 'configured'; base: string }
  | { kind: 'fromRequest'; base: string }
  | { kind: 'relative' }
  | { kind: 'invalid'; header: BaseHeader; reason: string };

/** Longest accepted host (RFC 1035 name plus port) and prefix: both end up in every URI. */
const MAX_HOST_LENGTH = 261;
const MAX_PREFIX_LENGTH = 256;

// A DNS-style name (letters, digits, `-`, `.`, `_` for container names) or an IPv4 literal, or an
// IPv6 literal in brackets; optional port. Narrower than RFC 3986's reg-name on purpose.
const HOST = /^(?:[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_.])?|\[[0-9A-Fa-f:.]+\])(?::(\d{1,5}))?$/;
// Path characters of RFC 3986 without quotes, commas, semicolons, spaces, `?` and `#`.
const PREFIX = /^(?:\/(?:[A-Za-z0-9\-._~!$&'()*+=:@]|%[0-9A-Fa-f]{2})*)+\/?$/;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

const single = (value: string | string[] | undefined): string | undefined =>
  Array.isArray(value) ? value.join(',') : value;

/** The first comma-separated value of a list header (a chain of proxies appends; the first is the client's). */
function firstListValue(value: string | string[] | undefined): string | undefined {
  const text = single(value);
  if (text === undefined) return undefined;
  const first = text.split(',')[0]!.trim();
  return first === '' ? undefined : first;
}

function checkHost(host: string): boolean {
  if (host.length > MAX_HOST_LENGTH) return false;
  const match = HOST.exec(host);
  if (match === null) return false;
  return match[1] === undefined || (Number(match[1]) >= 1 && Number(match[1]) <= 65535);
}

type Forwarded = { proto?: string; host?: string } | { error: string };

/**
 * The `proto` and `host` of the first element of an RFC 7239 `Forwarded` header (the element
 * the proxy nearest to the client added). Parameters other than these are checked for syntax only.
 */
export function parseForwarded(header: string): Forwarded {
  const result: { proto?: string; host?: string } = {};
  const seen = new Set<string>();
  let i = 0;
  const length = header.length;
  const skipSpace = () => {
    while (i < length && (header[i] === ' ' || header[i] === '\t')) i += 1;
  };
  for (;;) {
    skipSpace();
    const nameStart = i;
    while (i < length && header[i] !== '=' && header[i] !== ';' && header[i] !== ',') i += 1;
    const name = header.slice(nameStart, i).trim().toLowerCase();
    if (!TOKEN.test(name) || header[i] !== '=') return { error: `expected name=value pairs, got ${JSON.stringify(header.slice(nameStart, nameStart + 40))}` };
    i += 1;
    let value: string;
    if (header[i] === '"') {
      i += 1;
      value = '';
      while (i < length && header[i] !== '"') {
        if (header[i] === '\\') i += 1;
        if (i < length) value += header[i];
        i += 1;
      }
      if (i >= length) return { error: 'an unterminated quoted value' };
      i += 1;
    } else {
      const valueStart = i;
      while (i < length && header[i] !== ';' && header[i] !== ',' && header[i] !== ' ' && header[i] !== '\t') i += 1;
      value = header.slice(valueStart, i);
      if (!TOKEN.test(value)) return { error: `the value of ${name} is neither a token nor a quoted string` };
    }
    if (seen.has(name)) return { error: `${name} twice in one element` };
    seen.add(name);
    if (name === 'proto') result.proto = value;
    if (name === 'host') result.host = value;
    skipSpace();
    if (i >= length || header[i] === ',') return result;
    if (header[i] !== ';') return { error: `unexpected ${JSON.stringify(header[i])} after ${name}` };
    i += 1;
  }
}

const show = (value: string) => JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value);

/**
 * The base that rewritten playlist URIs are written under (`<base>/strm/proxy/<token>/<name>`).
 *
 * @example
 * referenceBase({ host: 'nas:8080', encrypted: false }, undefined)
 * // { kind: 'fromRequest', base: 'http://nas:8080' }
 * referenceBase({ host: 'strm:8080', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'media.example', 'x-forwarded-prefix': '/anime', encrypted: false }, undefined)
 * // { kind: 'fromRequest', base: 'https://media.example/anime' }
 * referenceBase({ host: 'nas:8080', encrypted: false }, 'https://media.example/strm')
 * // { kind: 'configured', base: 'https://media.example/strm' }
 */
export function referenceBase(request: BaseRequest, publicBaseUrl: string | undefined): ReferenceBase {
  if (publicBaseUrl !== undefined) return { kind: 'configured', base: publicBaseUrl };

  let proto: string | undefined;
  let host: string | undefined;
  let hostHeader: BaseHeader = 'host';
  let protoHeader: BaseHeader = 'x-forwarded-proto';
  const forwardedText = single(request.forwarded);
  if (forwardedText !== undefined && forwardedText.trim() !== '') {
    const forwarded = parseForwarded(forwardedText);
    if ('error' in forwarded) return { kind: 'invalid', header: 'forwarded', reason: forwarded.error };
    if (forwarded.proto !== undefined) {
      proto = forwarded.proto;
      protoHeader = 'forwarded';
    }
    if (forwarded.host !== undefined) {
      host = forwarded.host;
      hostHeader = 'forwarded';
    }
  }
  if (proto === undefined) proto = firstListValue(request['x-forwarded-proto']);
  if (host === undefined) {
    host = firstListValue(request['x-forwarded-host']);
    if (host !== undefined) hostHeader = 'x-forwarded-host';
  }
  if (host === undefined) {
    host = single(request.host)?.trim();
    if (host === undefined || host === '') return { kind: 'relative' };
  }

  const scheme = proto === undefined ? (request.encrypted ? 'https' : 'http') : proto.toLowerCase();
  if (scheme !== 'http' && scheme !== 'https') return { kind: 'invalid', header: protoHeader, reason: `the scheme must be http or https, got ${show(proto ?? '')}` };
  if (!checkHost(host)) return { kind: 'invalid', header: hostHeader, reason: `expected host[:port], got ${show(host)}` };

  const port = firstListValue(request['x-forwarded-port']);
  if (port !== undefined) {
    if (!/^\d{1,5}$/.test(port) || Number(port) < 1 || Number(port) > 65535) {
      return { kind: 'invalid', header: 'x-forwarded-port', reason: `expected a port number, got ${show(port)}` };
    }
    const hasPort = /:\d+$/.test(host) && !host.endsWith(']');
    const isDefault = (scheme === 'http' && port === '80') || (scheme === 'https' && port === '443');
    if (!hasPort && !isDefault) host = `${host}:${port}`;
  }

  let prefix = '';
  const rawPrefix = firstListValue(request['x-forwarded-prefix']);
  if (rawPrefix !== undefined) {
    const segments = rawPrefix.split('/');
    if (rawPrefix.length > MAX_PREFIX_LENGTH || !PREFIX.test(rawPrefix) || segments.some((segment) => segment === '.' || segment === '..')) {
      return { kind: 'invalid', header: 'x-forwarded-prefix', reason: `expected a path such as /anime, got ${show(rawPrefix)}` };
    }
    prefix = rawPrefix.replace(/\/+$/, '');
  }
  return { kind: 'fromRequest', base: `${scheme}://${host.toLowerCase()}${prefix}` };
}

/**
 * The reference that replaces an upstream URI in a rewritten playlist: absolute under `base`, or,
 * without a base, relative to where the playlist is served (`proxy/<token>/<name>` from
 * `/strm/stream`, `../../proxy/<token>/<name>` from `/strm/proxy/<token>/<name>`).
 *
 * @example
 * proxyReference('AbC', 'seg1.ts', 'proxy', 'https://media.example/anime')
 * // 'https://media.example/anime/strm/proxy/AbC/seg1.ts'
 * proxyReference('AbC', 'seg1.ts', 'stream', undefined) // 'proxy/AbC/seg1.ts'
 */
export function proxyReference(token: string, name: string, from: 'stream' | 'proxy', base: string | undefined): string {
  if (base !== undefined) return `${base}/strm/proxy/${token}/${name}`;
  return from === 'stream' ? `proxy/${token}/${name}` : `../../proxy/${token}/${name}`;
}

/**
 * The longest rewritten URI the proxy hands out, in bytes. FFmpeg reads playlist lines and URLs
 * into buffers of `MAX_URL_SIZE` (4096 bytes, its terminating NUL included) and silently cuts
 * what does not fit; 256 bytes of that stay for the rest of a tag line
 * (`#EXT-X-KEY:METHOD=AES-128,URI="…",IV=0x…`).
 */
export const MAX_REFERENCE_BYTES = 4096 - 1 - 256;
/** What a relative reference may grow by once resolved (the client's scheme, host and prefix). */
const RELATIVE_BASE_ALLOWANCE = 256;

/**
 * True when `reference`, once resolved by a player, could exceed {@link MAX_REFERENCE_BYTES}:
 * the proxy then refuses to answer the playlist rather than hand out a URI a player truncates.
 *
 * @example
 * referenceTooLong('https://media.example/strm/proxy/AbC/seg1.ts') // false
 */
export function referenceTooLong(reference: string): boolean {
  const absolute = reference.startsWith('http://') || reference.startsWith('https://');
  return Buffer.byteLength(reference) + (absolute ? 0 : RELATIVE_BASE_ALLOWANCE) > MAX_REFERENCE_BYTES;
}
