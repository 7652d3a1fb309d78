import { Agent, request, type Dispatcher } from 'undici';
import { ResolverError } from './errors';
import { assertEpisodeIdentity, type EpisodeIdentity } from './identity';
import { headersProblem, resolutionFromRecord, type Resolution, type ResolutionSource } from './resolution';
import { checkPositiveInteger } from './options';

/**
 * Options of {@link createHttpResolverSource}.
 *
 * @example
 * ```ts
 * const options: HttpResolverSourceOptions = { baseUrl: 'http://resolver:9000/api', timeoutMs: 5000, headers: { Authorization: 'Bearer …' } };
 * ```
 */
export interface HttpResolverSourceOptions {
  /** The resolver's base URL; `/resolve` is appended to its path (`http://r:9000/api` → `/api/resolve`). */
  baseUrl: string | URL;
  /** Limit for the whole call, from connecting to the last body byte. Default 10000. */
  timeoutMs?: number;
  /** Largest accepted response body. Default 65536 (64 KiB). */
  maxResponseBytes?: number;
  /** The undici dispatcher to send through. Default: an `Agent` of the source's own (pooled, keep-alive). */
  dispatcher?: Dispatcher;
  /** Extra request headers for every call, e.g. `Authorization` when the resolver wants one. */
  headers?: Record<string, string>;
}

/**
 * What {@link createHttpResolverSource} returns: a {@link ResolutionSource} that can be closed.
 *
 * @example
 * ```ts
 * const source: HttpResolverSource = createHttpResolverSource({ baseUrl: 'http://resolver:9000' });
 * source.endpoint; // 'http://resolver:9000/resolve'
 * await source.close(); // on shutdown
 * ```
 */
export interface HttpResolverSource extends ResolutionSource {
  /** The `/resolve` endpoint URL that calls go to (without a query). */
  readonly endpoint: string;
  /** Closes the connection pool the source created; does nothing when a `dispatcher` was given. */
  close(): Promise<void>;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024;
// setTimeout fires at once for anything above 2^31 - 1.
const MAX_TIMER_MS = 2 ** 31 - 1;

function endpointOf(baseUrl: unknown): URL {
  let url: URL;
  try {
    if (typeof baseUrl !== 'string' && !(baseUrl instanceof URL)) throw new TypeError('not a string');
    url = new URL(baseUrl);
  } catch {
    throw new TypeError(`options.baseUrl must be an absolute http(s) URL; received ${typeof baseUrl === 'string' ? `a string of ${baseUrl.length} characters that is not one` : `a value of type ${typeof baseUrl}`}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new TypeError(`options.baseUrl must be an absolute http(s) URL; received scheme ${JSON.stringify(url.protocol)}`);
  }
  if (url.username !== '' || url.password !== '') {
    throw new TypeError('options.baseUrl must not contain credentials; pass them in options.headers (e.g. Authorization)');
  }
  if (url.search !== '' || url.hash !== '') {
    throw new TypeError('options.baseUrl must not have a query or a fragment; the client writes the query itself');
  }
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/resolve`;
  return url;
}

/** @internal A short human description of an identity for messages (none of it is secret). */
export function describeIdentity(identity: EpisodeIdentity): string {
  const provider = identity.provider === undefined ? '' : ` via ${identity.provider}`;
  return `${identity.site}/${identity.slug} S${identity.season}E${identity.episode} (${identity.language}${provider})`;
}

/** @internal The query of a resolve call, in the order of the contract. */
function resolveQuery(identity: EpisodeIdentity, refresh: boolean): URLSearchParams {
  const query = new URLSearchParams({
    site: identity.site,
    slug: identity.slug,
    s: String(identity.season),
    e: String(identity.episode),
    lang: identity.language,
  });
  if (identity.provider !== undefined) query.set('provider', identity.provider);
  if (refresh) query.set('refresh', '1');
  return query;
}

/**
 * A {@link ResolutionSource} that asks an HTTP resolver:
 * `GET {baseUrl}/resolve?site=&slug=&s=&e=&lang=[&provider=][&refresh=1]`.
 *
 * 200 with a valid JSON body is a {@link Resolution}; 404 is `STRM_RESOLVER_NOT_FOUND`; any other
 * status is `STRM_RESOLVER_UNAVAILABLE` (with `status`); a body that is not JSON, not a valid
 * resolution or larger than `maxResponseBytes` is `STRM_RESOLVER_BAD_RESPONSE`; no complete answer
 * within `timeoutMs` (a resolver that sends its headers and then stalls included) is
 * `STRM_RESOLVER_TIMEOUT`. Options are checked here and throw a `TypeError`.
 *
 * @example
 * ```ts
 * const source = createHttpResolverSource({ baseUrl: 'http://resolver:9000/api', timeoutMs: 5000 });
 * source.endpoint; // 'http://resolver:9000/api/resolve'
 * await source.resolve({ site: 'aniworld.to', slug: 'frieren', season: 1, episode: 3, language: 'German Dub' }, { refresh: false });
 * // { url: 'https://cdn.example/…/master.m3u8', headers: { Referer: 'https://voe.example/' }, provider: 'VOE', expiresAt: 1735732800000 }
 * await source.close();
 * ```
 */
export function createHttpResolverSource(options: HttpResolverSourceOptions): HttpResolverSource {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`options must be an object; received ${options === null ? 'null' : typeof options}`);
  }
  const endpoint = endpointOf(options.baseUrl);
  const timeoutMs = checkPositiveInteger(options.timeoutMs, 'options.timeoutMs', DEFAULT_TIMEOUT_MS, MAX_TIMER_MS);
  const maxResponseBytes = checkPositiveInteger(options.maxResponseBytes, 'options.maxResponseBytes', DEFAULT_MAX_RESPONSE_BYTES);
  const extraHeaders = headersProblem(options.headers);
  if (!('headers' in extraHeaders)) {
    throw new TypeError(`options.${extraHeaders.field} ${extraHeaders.expected}; received ${extraHeaders.received}`);
  }
  const ownAgent = options.dispatcher === undefined ? new Agent() : undefined;
  const dispatcher: Dispatcher = options.dispatcher ?? ownAgent!;
  const requestHeaders = { accept: 'application/json', ...extraHeaders.headers };
  const where = endpoint.href;

  async function resolve(identity: EpisodeIdentity, callOptions: { refresh: boolean; signal?: AbortSignal }): Promise<Resolution> {
    assertEpisodeIdentity(identity);
    const refresh = callOptions?.refresh === true;
    const callerSignal = callOptions?.signal;
    callerSignal?.throwIfAborted();
    const url = new URL(endpoint);
    url.search = resolveQuery(identity, refresh).toString();
    const what = `resolver call for ${describeIdentity(identity)}`;

    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(), timeoutMs);
    const signal = callerSignal === undefined ? timeout.signal : AbortSignal.any([callerSignal, timeout.signal]);
    try {
      const response = await request(url, { method: 'GET', dispatcher, signal, headers: requestHeaders });
      const { statusCode, body } = response;
      if (statusCode !== 200) {
        // Reading the rest keeps the connection reusable; the timer still bounds it.
        await body.dump({ limit: maxResponseBytes }).catch(() => undefined);
        if (statusCode === 404) {
          throw new ResolverError('STRM_RESOLVER_NOT_FOUND', `${what}: the resolver at ${where} does not know this episode (404)`, { status: 404 });
        }
        throw new ResolverError('STRM_RESOLVER_UNAVAILABLE', `${what}: the resolver at ${where} answered ${statusCode}; expected 200 or 404`, { status: statusCode });
      }
      const declared = Number(response.headers['content-length']);
      if (Number.isFinite(declared) && declared > maxResponseBytes) {
        body.destroy();
        throw tooLarge(what, where, maxResponseBytes, `Content-Length ${declared}`);
      }
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of body as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > maxResponseBytes) throw tooLarge(what, where, maxResponseBytes, `more than ${maxResponseBytes} bytes`);
        chunks.push(chunk);
      }
      return parseBody(Buffer.concat(chunks, size), what, where, String(response.headers['content-type'] ?? 'none'));
    } catch (error) {
      if (timeout.signal.aborted && !(callerSignal?.aborted ?? false)) {
        throw new ResolverError('STRM_RESOLVER_TIMEOUT', `${what}: the resolver at ${where} did not answer completely within ${timeoutMs} ms`, { cause: error });
      }
      if (error instanceof ResolverError) throw error;
      if (callerSignal?.aborted) throw callerSignal.reason;
      const code = (error as { code?: unknown } | null)?.code;
      const detail = typeof code === 'string' ? ` (${code})` : '';
      throw new ResolverError('STRM_RESOLVER_UNAVAILABLE', `${what}: could not reach the resolver at ${where}${detail}`, { cause: error });
    } finally {
      clearTimeout(timer);
    }
  }

  return {
    endpoint: where,
    resolve,
    async close() {
      await ownAgent?.close();
    },
  };
}

function tooLarge(what: string, where: string, limit: number, received: string): ResolverError {
  return new ResolverError('STRM_RESOLVER_BAD_RESPONSE', `${what}: the answer of the resolver at ${where} is too large; expected at most ${limit} bytes, received ${received}`, { status: 200 });
}

function parseBody(bytes: Buffer, what: string, where: string, contentType: string): Resolution {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    // No excerpt and no cause: the body may hold an upstream URL with its token.
    throw new ResolverError('STRM_RESOLVER_BAD_RESPONSE', `${what}: the resolver at ${where} answered 200 with a body that is not UTF-8 JSON (${bytes.length} bytes, Content-Type ${contentType.slice(0, 60)})`, { status: 200 });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ResolverError('STRM_RESOLVER_BAD_RESPONSE', `${what}: the resolver at ${where} answered 200 with JSON that is not an object; expected {"url": …}`, { status: 200 });
  }
  const checked = resolutionFromRecord(value as Record<string, unknown>, { expiresAt: true });
  if (!('resolution' in checked)) {
    throw new ResolverError('STRM_RESOLVER_BAD_RESPONSE', `${what}: the resolver at ${where} answered 200, but "${checked.field}" ${checked.expected}; received ${checked.received}`, { status: 200 });
  }
  return checked.resolution;
}
