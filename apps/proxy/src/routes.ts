import type { IncomingMessage, ServerResponse } from 'node:http';
import { detectPlaylist, mediaFileName, sniffPlaylist, type UriContext, type UriKind } from '@strm/hls-rewrite';
import { parseContentRange, rangeToForward } from '@strm/range';
import { ResolverError, type EpisodeIdentity, type ResolverClient, type StoredResolution } from '@strm/resolver-client';
import type { TokenSealer } from '@strm/signing';
import { authorizeEntry } from './auth';
import { discardBody, readHead } from './body-pump';
import type { ProxyConfig } from './config';
import { ProxyError } from './errors';
import { fetchWithRefresh, type ClientConditionals, type UpstreamTarget } from './fetch-resource';
import type { ProxyMetrics } from './metrics';
import { parseEpisodeParams } from './params';
import { entryTag, type Relocator } from './relocate';
import { sendMedia } from './respond-media';
import { sendPlaylist } from './respond-playlist';
import { identityFromTuple, identityTuple, openProxyToken, proxyReference, type ProxyTokenPayload } from './tokens';
import type { UpstreamFetcher, UpstreamResponse } from './upstream';

/** Everything a request handler needs, built once per proxy instance. */
export interface ProxyRuntime {
  config: ProxyConfig;
  /** The current secret first, then the previous ones: entry URLs signed by any of them verify. */
  secrets: readonly string[];
  tokens: TokenSealer<ProxyTokenPayload>;
  resolver: ResolverClient;
  upstream: UpstreamFetcher;
  relocator: Relocator;
  metrics: ProxyMetrics;
  now: () => number;
}

/** What one request did, for its log line and metrics. */
export interface RequestState {
  route: 'stream' | 'proxy' | 'other';
  startedAt: number;
  firstByteAt?: number;
  upstreamStatus?: number;
  upstreamHost?: string;
  refreshes: number;
  resumes: number;
  /** Body bytes sent so far (kept current while the body streams: the status page reads it live). */
  bytes: number;
  /** The episode, once the request named one (entry parameters or proxy token). */
  identity?: EpisodeIdentity;
  /** Why the request failed, when it did (a `STRM_…` code and a cause without secrets). */
  failure?: { code: string; cause: string };
}

/** Bytes sniffed at most to tell a playlist from media when headers do not say. */
const SNIFF_BYTES = 1024;

const headerValue = (req: IncomingMessage, name: string): string | undefined => {
  const value = req.headers[name];
  return typeof value === 'string' ? value : undefined;
};

/** The client's Range (only a single valid range is forwarded) and conditionals. */
function clientConditionals(req: IncomingMessage): ClientConditionals {
  const range = rangeToForward(headerValue(req, 'range'));
  return {
    range,
    'if-range': range !== undefined ? headerValue(req, 'if-range') : undefined,
    'if-none-match': headerValue(req, 'if-none-match'),
    'if-modified-since': headerValue(req, 'if-modified-since'),
  };
}

/** Resolves through the cache, mapping the resolver's failures to the proxy's answers. */
export async function resolveEpisode(
  runtime: Pick<ProxyRuntime, 'resolver'>,
  identity: EpisodeIdentity,
  options: { refresh?: boolean; staleUrl?: string },
): Promise<StoredResolution> {
  try {
    return await runtime.resolver.resolve(identity, options);
  } catch (error) {
    if (error instanceof ResolverError && error.code === 'STRM_RESOLVER_NOT_FOUND') {
      throw new ProxyError('STRM_EPISODE_NOT_FOUND', 'the resolver does not know this episode', { cause: error });
    }
    const code = error instanceof ResolverError ? error.code : 'unknown';
    throw new ProxyError('STRM_RESOLVER_FAILED', `the resolver failed (${code})`, { cause: error });
  }
}

function abortOnClose(res: ServerResponse): AbortSignal {
  const controller = new AbortController();
  res.once('close', () => controller.abort());
  return controller.signal;
}

interface Delivery {
  upstream: UpstreamResponse;
  method: 'GET' | 'HEAD';
  conditionals: ClientConditionals;
  /** The kind from a proxy token; undefined on the entry endpoint, where it is detected. */
  kind: UriKind | undefined;
  from: 'stream' | 'proxy';
  target: UpstreamTarget;
  identity: EpisodeIdentity | undefined;
  tag: string | undefined;
  route: readonly number[];
  /** The playlist of a subtitle rendition (`EXT-X-MEDIA TYPE=SUBTITLES`). */
  subtitles: boolean;
  refetch: (conditionals: ClientConditionals) => Promise<UpstreamResponse>;
}

/** A 206 that covers the whole resource is as good as a 200 for a playlist. */
function isWholeBody(upstream: UpstreamResponse): boolean {
  if (upstream.status !== 206) return true;
  const range = parseContentRange(String(upstream.headers['content-range'] ?? ''));
  return range.kind === 'range' && range.start === 0 && range.size !== undefined && range.end === range.size - 1;
}

/** Answers a fetched upstream response: a rewritten playlist, or media with exact ranges. */
async function deliver(runtime: ProxyRuntime, res: ServerResponse, state: RequestState, delivery: Delivery): Promise<void> {
  let { upstream } = delivery;
  state.upstreamStatus = upstream.status;
  if (upstream.status >= 400 && upstream.status !== 416) {
    discardBody(upstream.body);
    throw new ProxyError('STRM_UPSTREAM_FAILED', `the upstream answered ${upstream.status}`, { status: upstream.status });
  }
  if (upstream.status < 200 || (upstream.status >= 300 && upstream.status !== 304 && upstream.status !== 416)) {
    discardBody(upstream.body);
    throw new ProxyError('STRM_UPSTREAM_FAILED', `the upstream answered ${upstream.status}`);
  }

  let head: Buffer[] = [];
  let isPlaylist: boolean;
  if (delivery.kind !== undefined) {
    isPlaylist = delivery.kind === 'playlist';
  } else {
    const byHeaders = detectPlaylist({ contentType: String(upstream.headers['content-type'] ?? ''), url: upstream.url });
    if (byHeaders === 'playlist') isPlaylist = true;
    else if (delivery.method === 'HEAD' || upstream.status !== 200 && !(upstream.status === 206 && isWholeBody(upstream))) isPlaylist = false;
    else {
      const sniffed = await readHead(upstream.body, (bytes) => {
        const verdict = sniffPlaylist(bytes);
        return verdict === 'undecided' ? undefined : verdict;
      }, SNIFF_BYTES);
      head = sniffed.chunks;
      isPlaylist = sniffed.verdict === 'playlist';
    }
  }

  const writeHead = (status: number, headers: Record<string, string>) => {
    state.firstByteAt = runtime.now();
    res.writeHead(status, headers);
  };
  const onBytes = (count: number) => {
    state.bytes += count;
  };

  if (isPlaylist) {
    if (!isWholeBody(upstream)) {
      // A playlist is rewritten whole: ask again without the client's Range.
      discardBody(upstream.body);
      head = [];
      upstream = await delivery.refetch({});
      state.upstreamStatus = upstream.status;
      if (upstream.status !== 200) {
        discardBody(upstream.body);
        throw new ProxyError('STRM_UPSTREAM_FAILED', `the upstream answered ${upstream.status}`, { status: upstream.status >= 400 ? upstream.status : 502 });
      }
    }
    await sendPlaylist(res, {
      upstream,
      method: delivery.method,
      head,
      rewriteUri: playlistRewriter(runtime, delivery),
      writeHead,
      onBytes,
      onStats: (stats) => {
        for (const [tag, count] of Object.entries(stats.byTag)) runtime.metrics.rewrittenUris.inc({ tag }, count);
      },
    });
    return;
  }
  await sendMedia(res, {
    upstream,
    method: delivery.method,
    forwarded: delivery.conditionals,
    head,
    refetch: delivery.refetch,
    writeHead,
    onBytes,
    onResume: (outcome) => {
      state.resumes += 1;
      runtime.metrics.resumes.inc({ outcome });
      if (outcome === 'gave-up') state.failure = { code: 'STRM_UPSTREAM_FAILED', cause: `the upstream body broke off after ${state.bytes} bytes and could not be resumed; the client connection was cut` };
    },
  });
}

/** Seals every URI of a playlist into a proxy token that carries what is needed to fetch it again. */
function playlistRewriter(runtime: ProxyRuntime, delivery: Delivery): (context: UriContext) => string {
  const identity = delivery.identity !== undefined ? identityTuple(delivery.identity) : undefined;
  const headers = Object.keys(delivery.target.headers).length > 0 ? delivery.target.headers : undefined;
  let index = 0;
  return (context) => {
    const payload: ProxyTokenPayload = { u: context.href, k: context.kind };
    if (headers !== undefined) payload.h = headers;
    if (context.type === 'SUBTITLES' && context.tag === 'EXT-X-MEDIA') payload.s = 1;
    if (identity !== undefined && delivery.tag !== undefined) {
      payload.i = identity;
      payload.e = delivery.tag;
      payload.r = [...delivery.route, index];
    }
    index += 1;
    const name = mediaFileName(context, { subtitles: delivery.subtitles });
    return proxyReference(runtime.tokens.seal(payload), name, delivery.from, runtime.config.publicBaseUrl);
  };
}

/**
 * Fetches a target (refreshing it once when it went stale) and answers with what came back;
 * a resumed or refetched body goes through the same refresh.
 */
async function fetchAndDeliver(
  runtime: ProxyRuntime,
  res: ServerResponse,
  state: RequestState,
  request: Omit<Delivery, 'upstream' | 'target' | 'tag' | 'refetch'> & {
    signal: AbortSignal;
    tag: (fetched: UpstreamTarget) => string | undefined;
    target: (refresh: boolean, stale?: UpstreamTarget) => Promise<UpstreamTarget | undefined>;
  },
): Promise<void> {
  const onRefresh = () => {
    state.refreshes += 1;
    runtime.metrics.refreshes.inc({ route: request.from });
  };
  const fetchWith = (method: 'GET' | 'HEAD', conditionals: ClientConditionals) =>
    fetchWithRefresh(runtime, { method, conditionals, signal: request.signal, onRefresh }, request.target);
  const fetched = await fetchWith(request.method, request.conditionals);
  state.upstreamHost = new URL(fetched.target.url).host;
  await deliver(runtime, res, state, {
    ...request,
    upstream: fetched.upstream,
    target: fetched.target,
    tag: request.tag(fetched.target),
    refetch: async (again) => (await fetchWith('GET', again)).upstream,
  });
}

/** `GET|HEAD /strm/stream`: authorize → parse → resolve → fetch (refresh once) → respond. */
export async function serveStream(runtime: ProxyRuntime, req: IncomingMessage, res: ServerResponse, state: RequestState): Promise<void> {
  const url = req.url ?? '';
  const query = url.indexOf('?');
  const params = new URLSearchParams(query === -1 ? '' : url.slice(query + 1));
  authorizeEntry(runtime.config.auth, runtime.secrets, params, headerValue(req, 'x-api-key'), Math.floor(runtime.now() / 1000));
  const identity = parseEpisodeParams(params);
  state.identity = identity;
  const method = req.method === 'HEAD' ? 'HEAD' : 'GET';
  const signal = abortOnClose(res);

  const target = async (refresh: boolean, stale?: UpstreamTarget): Promise<UpstreamTarget> => {
    const stored = await resolveEpisode(runtime, identity, refresh ? { refresh: true, ...(stale ? { staleUrl: stale.url } : {}) } : {});
    return { url: stored.resolution.url, headers: stored.resolution.headers };
  };
  await fetchAndDeliver(runtime, res, state, {
    method,
    conditionals: clientConditionals(req),
    signal,
    kind: undefined,
    from: 'stream',
    identity,
    route: [],
    subtitles: false,
    tag: (fetched) => entryTag(fetched.url),
    target,
  });
}

/** `GET|HEAD /strm/proxy/<token>/<name>`: open the token → fetch (relocate once) → respond. */
export async function serveProxied(runtime: ProxyRuntime, req: IncomingMessage, res: ServerResponse, state: RequestState, token: string): Promise<void> {
  const payload = openProxyToken(runtime.tokens, token, Math.floor(runtime.now() / 1000));
  const method = req.method === 'HEAD' ? 'HEAD' : 'GET';
  const signal = abortOnClose(res);
  const identity = payload.i !== undefined ? identityFromTuple(payload.i) : undefined;
  state.identity = identity;
  const route = payload.r ?? [];
  // A playlist is rewritten whole and its tokens differ on every fetch: no ranges, no 304s.
  const conditionals: ClientConditionals = payload.k === 'playlist' ? {} : clientConditionals(req);

  let current: UpstreamTarget = { url: payload.u, headers: payload.h ?? {} };
  const target = async (refresh: boolean): Promise<UpstreamTarget | undefined> => {
    if (!refresh) return current;
    if (identity === undefined || payload.e === undefined || route.length === 0) return undefined;
    try {
      const fresh = await runtime.relocator.relocate(identity, payload.e, route);
      if (fresh !== undefined) current = fresh;
      return fresh;
    } catch (error) {
      if (error instanceof ProxyError) throw error;
      return undefined;
    }
  };
  await fetchAndDeliver(runtime, res, state, {
    method,
    conditionals,
    signal,
    kind: payload.k,
    from: 'proxy',
    identity,
    route,
    subtitles: payload.s === 1,
    tag: () => payload.e,
    target,
  });
}
