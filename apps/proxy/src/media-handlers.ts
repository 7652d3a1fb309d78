import { detectManifest } from '@strm/dash-rewrite';
import { detectPlaylist, sniffPlaylist } from '@strm/hls-rewrite';
import type { EpisodeIdentity } from '@strm/resolver-client';
import { parseContentRange, rangeToForward } from '@strm/range';
import type { UnixSeconds } from '@strm/signing';
import { authorizeEntry } from './auth';
import { discardBody, readHead } from './body-pump';
import { hasDirectives, isBlockingReload, parseDeliveryDirectives, PlaylistScan, withDeliveryDirectives, type DeliveryDirectives } from './delivery-directives';
import { ProxyError } from './errors';
import { sendMedia } from './media-response';
import { parseEpisodeParams } from './params';
import { entryFingerprint, linkMinter, MAX_PLAYLIST_BYTES, openLink, type LinkLineage, type LinkPayload } from './playlist-links';
import { sendPlaylist } from './playlist-response';
import { sealedDirectoryOf, sendManifest, sniffDocument, type ManifestRequest } from './respond-mpd';
import { sendSteering, steeringUpstreamUrl } from './respond-steering';
import { parseSealedPath, resolveSealedPath } from './sealed-path';
import { identityTuple, type ProxyTokenPayload } from './tokens';
import { isWholeResource, refusedUpstreamStatus } from './range-answer';
import type { FreshTargetSource } from './refresh';
import { BASE_VARY_HEADERS, referenceBase, type ReferenceBase } from './reference-base';
import type { RequestContext } from './request-context';
import { resolveEpisode } from './resolve-episode';
import type { ProxyRuntime } from './runtime';
import type { UpstreamResponse } from './upstream';
import type { ClientConditionals, UpstreamTarget } from './upstream-retry';
import { UpstreamSession } from './upstream-session';

/** Bytes sniffed at most to tell a playlist or a DASH manifest from media when headers do not say (an MPD may open with a long comment). */
const SNIFF_BYTES = 4096;

/** What the client asked for, once its URL is understood. */
interface Requested {
  /** The kind a link carries; undefined on the entry endpoint, where it is detected. */
  kind: LinkPayload['kind'] | undefined;
  conditionals: ClientConditionals;
  source: FreshTargetSource;
  /** The playlist of a subtitle rendition (`EXT-X-MEDIA TYPE=SUBTITLES`). */
  subtitles: boolean;
  /** Where the URIs of a rewritten playlist point (see `reference-base.ts`). */
  base: UsableBase;
  /** The upstream URL without Delivery Directives: the key of its target duration. */
  playlistUrl: string;
  /** The upstream wait of a blocking playlist reload; undefined = the configured one. */
  timeoutMs?: number | undefined;
  /** A steering manifest's multivariant playlist URL. */
  multivariant?: string | undefined;
}

/**
 * Where a playlist request with Delivery Directives (RFC 8216bis §6.2.5) goes: the directives
 * travel to the origin as query parameters of the upstream URL, and a blocking reload waits
 * for the origin as long as it may hold the request (see `delivery-directives.ts`).
 */
function withDirectives(runtime: ProxyRuntime, url: string, directives: DeliveryDirectives): { url: string; timeoutMs: number | undefined; reanchor: ((fresh: UpstreamTarget) => UpstreamTarget) | undefined } {
  return {
    url: withDeliveryDirectives(url, directives),
    timeoutMs: isBlockingReload(directives) ? runtime.targetDurations.blockingTimeoutMs(url, runtime.config.upstreamTimeoutMs) : undefined,
    // A playlist that moved (a refresh, or one of its siblings found it stale) is asked with the
    // same directives at its new URL: a blocking reload stays blocking, a delta update a delta.
    reanchor: !hasDirectives(directives) ? undefined : (fresh) => ({ ...fresh, url: withDeliveryDirectives(fresh.url, directives) }),
  };
}

/** The query of a request target, without its `?`. */
function queryOf(target: string | undefined): string {
  const at = (target ?? '').indexOf('?');
  return at === -1 ? '' : (target ?? '').slice(at + 1);
}

/**
 * Takes the `_HLS_` parameters out of an entry URL's query: a player appends Delivery Directives
 * to the URL of a live playlist it reloads, and they are not part of what was signed.
 */
function takeDirectives(params: URLSearchParams): string {
  const directives = new URLSearchParams();
  for (const [name, value] of [...params]) {
    if (!name.startsWith('_HLS_')) continue;
    directives.append(name, value);
    params.delete(name);
  }
  return directives.toString();
}

type UsableBase = Exclude<ReferenceBase, { kind: 'invalid' }>;

/** The base of the request's playlist URIs; a malformed forwarded header is a 400. */
function requestBase(runtime: ProxyRuntime, ctx: RequestContext): UsableBase {
  const { headers, socket } = ctx.req;
  const base = referenceBase({
    host: headers.host,
    forwarded: headers.forwarded,
    'x-forwarded-proto': headers['x-forwarded-proto'],
    'x-forwarded-host': headers['x-forwarded-host'],
    'x-forwarded-port': headers['x-forwarded-port'],
    'x-forwarded-prefix': headers['x-forwarded-prefix'],
    encrypted: (socket as { encrypted?: boolean }).encrypted === true,
  }, runtime.config.publicBaseUrl);
  if (base.kind === 'invalid') throw new ProxyError('STRM_BAD_FORWARDED_HEADER', `the ${base.header} header is malformed: ${base.reason}`);
  return base;
}

/** The base of a link to media, never read: media has no URIs to rewrite. */
const MEDIA_BASE: UsableBase = { kind: 'relative' };

/** Whether a link's kind is a document the proxy rewrites whole (the others are media). */
const isRewrittenKind = (kind: LinkPayload['kind']): kind is Exclude<Document, 'media'> => kind === 'playlist' || kind === 'manifest' || kind === 'steering';

/** The client's Range (only a single valid range is forwarded) and conditionals. */
function clientConditionals(ctx: RequestContext): ClientConditionals {
  const range = rangeToForward(ctx.header('range'));
  return {
    range,
    'if-range': range !== undefined ? ctx.header('if-range') : undefined,
    'if-none-match': ctx.header('if-none-match'),
    'if-modified-since': ctx.header('if-modified-since'),
  };
}

/** The proxy's clock in the unit of signed URLs and tokens. */
const nowSeconds = (runtime: ProxyRuntime): UnixSeconds => Math.floor(runtime.now() / 1000);

/** The episode an entry URL names, for the log line even of a request refused before it is parsed. */
function episodeForLog(params: URLSearchParams): EpisodeIdentity | undefined {
  try {
    return parseEpisodeParams(params);
  } catch {
    return undefined;
  }
}

/** `GET|HEAD /strm/stream`: parse → authorize → resolve → fetch (refresh once) → respond. */
export async function serveStream(runtime: ProxyRuntime, ctx: RequestContext): Promise<void> {
  const params = new URLSearchParams(queryOf(ctx.req.url));
  const directives = takeDirectives(params);
  ctx.identity = episodeForLog(params);
  authorizeEntry(runtime.config.auth, runtime.secrets, params, ctx.header('x-api-key'), nowSeconds(runtime));
  // Parsed once for the log line; parsed again only when that failed, to throw its error.
  const episode = ctx.identity ?? parseEpisodeParams(params);
  ctx.identity = episode;
  // Checked before the resolver is asked: a malformed directive costs nothing upstream.
  const delivery = parseDeliveryDirectives(directives);
  const base = requestBase(runtime, ctx);
  const stored = await resolveEpisode(runtime.resolver, episode, {});
  const upstream = withDirectives(runtime, stored.resolution.url, delivery);
  const target = { url: upstream.url, headers: stored.resolution.headers };
  return fetchAndRespond(runtime, ctx, target, {
    kind: undefined,
    conditionals: clientConditionals(ctx),
    source: { kind: 'entry', episode, ...(upstream.reanchor !== undefined ? { reanchor: upstream.reanchor, resolvedUrl: stored.resolution.url } : {}) },
    subtitles: false,
    base,
    playlistUrl: stored.resolution.url,
    timeoutMs: upstream.timeoutMs,
  });
}

/** `GET|HEAD /strm/proxy/<token>/<name>`: open the link → fetch (relocate once) → respond. */
export async function serveProxied(runtime: ProxyRuntime, ctx: RequestContext, token: string): Promise<void> {
  const link = openLink(runtime.tokens, token, nowSeconds(runtime));
  ctx.identity = link.lineage?.episode;
  const rewritten = isRewrittenKind(link.kind);
  // Only a rewritten document depends on the request's forwarded headers.
  const base = rewritten ? requestBase(runtime, ctx) : MEDIA_BASE;
  // Only a playlist link takes Delivery Directives; any other ignores its query.
  const delivery = link.kind === 'playlist' ? withDirectives(runtime, link.url, parseDeliveryDirectives(queryOf(ctx.req.url))) : { url: link.url, timeoutMs: undefined, reanchor: undefined };
  let url = delivery.url;
  let reanchor: ((fresh: UpstreamTarget) => UpstreamTarget | undefined) | undefined = delivery.reanchor;
  if (link.sealedDirectory !== undefined) {
    // A sealed DASH directory: the path after the token is what the player appended (an expanded template).
    const sealed = parseSealedPath(ctx.req.url ?? '');
    if (sealed === undefined) throw new ProxyError('STRM_BAD_PROXY_PATH', 'this proxy link needs a path after its token');
    url = resolveSealedPath(link.url, sealed.rest, sealed.query, link.sealedDirectory.query);
    reanchor = (fresh) => {
      const directory = sealedDirectoryOf(fresh.url);
      return directory === undefined ? undefined : { url: resolveSealedPath(directory.directory, sealed.rest, sealed.query, directory.query), headers: fresh.headers };
    };
  } else if (link.kind === 'steering') {
    // The steering server decides by the client's pathway and throughput: forwarded, also to a relocated URL.
    const target = ctx.req.url ?? '';
    url = steeringUpstreamUrl(link.url, target);
    reanchor = (fresh) => ({ url: steeringUpstreamUrl(fresh.url, target), headers: fresh.headers });
  }
  const target: UpstreamTarget = link.variables === undefined ? { url, headers: link.headers } : { url, headers: link.headers, variables: link.variables };
  return fetchAndRespond(runtime, ctx, target, {
    kind: link.kind,
    // A playlist (or manifest) is rewritten whole: the upstream is asked without ranges and conditionals.
    conditionals: rewritten ? {} : clientConditionals(ctx),
    source: { kind: 'link', lineage: link.lineage, ...(reanchor !== undefined ? { reanchor } : {}) },
    subtitles: link.subtitles,
    base,
    playlistUrl: link.url,
    timeoutMs: delivery.timeoutMs,
    multivariant: link.multivariant,
  });
}

async function fetchAndRespond(runtime: ProxyRuntime, ctx: RequestContext, target: UpstreamTarget, requested: Requested): Promise<void> {
  const session = new UpstreamSession(runtime, { target, source: requested.source, route: ctx.route, signal: ctx.signal, timeoutMs: requested.timeoutMs });
  ctx.session = session;
  const upstream = await session.fetch(ctx.method, requested.conditionals);
  const refused = refusedUpstreamStatus(upstream.status);
  if (refused !== undefined) {
    discardBody(upstream.body);
    throw refused;
  }
  // A link says what it is: nothing to await.
  const { document, head } = requested.kind !== undefined ? kindOfLink(requested.kind) : await detectKind(upstream, ctx.method, session);
  // The answer is returned, not awaited: a body takes most of a request's time, and the frames of
  // this function and of its caller (with everything they hold) are let go while it runs.
  if (document !== 'media') return respondPlaylist(runtime, ctx, session, { upstream, head, requested, document });
  const { conditionals } = requested;
  return sendMedia(ctx, session, { upstream, head, ask: { method: ctx.method, range: conditionals.range, ifRange: conditionals['if-range'] } });
}

type Document = 'playlist' | 'manifest' | 'steering' | 'media';

/** A 200, or a 206 from the first byte to the last: a body that can be sniffed and rewritten whole. */
const carriesWholeBody = (upstream: UpstreamResponse) => upstream.status === 200 || (upstream.status === 206 && isWholeResource(upstream));

/** What a link's answer is: the link says. */
const kindOfLink = (kind: LinkPayload['kind']): { document: Document; head: Buffer[] } => ({ document: isRewrittenKind(kind) ? kind : 'media', head: [] });

/**
 * Whether an entry's answer is an HLS playlist, a DASH manifest or media: its headers say, or its
 * first bytes (read here and returned, to be written first).
 */
async function detectKind(upstream: UpstreamResponse, method: 'GET' | 'HEAD', session: UpstreamSession): Promise<{ document: Document; head: Buffer[] }> {
  const byHeaders = { contentType: String(upstream.headers['content-type'] ?? ''), url: upstream.url };
  if (detectPlaylist(byHeaders) === 'playlist') return { document: 'playlist', head: [] };
  if (detectManifest(byHeaders) === 'manifest') return { document: 'manifest', head: [] };
  if (method === 'HEAD') return { document: (await headIsPlaylist(upstream, session)) ? 'playlist' : 'media', head: [] };
  if (!carriesWholeBody(upstream)) return { document: await documentBehindPart(upstream, session), head: [] };
  const sniffed = await readHead(upstream.body, sniffDocument, SNIFF_BYTES);
  return { document: sniffed.verdict ?? 'media', head: sniffed.chunks };
}

/**
 * How the URLs of a DASH manifest are sealed: with the upstream headers and, for refresh, the
 * lineage and the route; absolute under the request's base as playlist URIs are (reference-base.ts).
 */
function manifestRequest(runtime: ProxyRuntime, ctx: RequestContext, session: UpstreamSession, lineage: LinkLineage | undefined, base: string | undefined): ManifestRequest {
  const target = ctx.req.url ?? '';
  const queryAt = target.indexOf('?');
  const headers = session.target.headers;
  return {
    from: ctx.route,
    requestPath: queryAt === -1 ? target : target.slice(0, queryAt),
    publicBaseUrl: base,
    headers: Object.keys(headers).length > 0 ? headers : undefined,
    seal: (payload: ProxyTokenPayload) => runtime.tokens.seal(payload, { now: nowSeconds(runtime) }),
    locate: (payload, index) => {
      if (lineage === undefined) return;
      payload.i = identityTuple(lineage.episode);
      payload.e = lineage.fingerprint;
      payload.r = [...lineage.route, index];
    },
  };
}

/** Content types under which providers serve playlists in disguise (`text/plain`, `.txt`). */
const DISGUISED_PLAYLIST_TYPE = /^(?:text\/|application\/octet-stream|binary\/octet-stream)/i;

/**
 * Whether the HEAD of an entry whose headers do not say "playlist" is one all the same. Kodi sends
 * HEAD to pick a player by type, so a playlist in disguise must answer the playlist type: only
 * for a type providers disguise playlists under and a length a playlist may have, the first
 * kilobyte is read with a ranged GET and sniffed. Media (any other type, or longer) is answered
 * from the HEAD alone, without a byte of its body.
 */
async function headIsPlaylist(upstream: UpstreamResponse, session: UpstreamSession): Promise<boolean> {
  const type = String(upstream.headers['content-type'] ?? '');
  const length = Number(upstream.headers['content-length'] ?? 0);
  if (upstream.status !== 200 || (type !== '' && !DISGUISED_PLAYLIST_TYPE.test(type)) || length > MAX_PLAYLIST_BYTES) return false;
  const probe = await session.fetch('GET', { range: `bytes=0-${SNIFF_BYTES - 1}` });
  if (probe.status !== 200 && probe.status !== 206) {
    discardBody(probe.body);
    return false;
  }
  const sniffed = await readHead(probe.body, (bytes) => {
    const verdict = sniffPlaylist(bytes);
    return verdict === 'undecided' ? undefined : verdict;
  }, SNIFF_BYTES);
  discardBody(probe.body);
  return sniffed.verdict === 'playlist';
}

/**
 * What an entry is when it answered the client's Range or conditionals with no whole body to
 * sniff (304, 416, a partial 206) and its headers did not tell: asked once more with HEAD and no
 * conditionals. A typed partial body, or one larger than a playlist may be, is media at once:
 * a player seeking through a movie costs no extra request.
 */
async function documentBehindPart(upstream: UpstreamResponse, session: UpstreamSession): Promise<Document> {
  // A 416's Content-Type is that of its error page; a 206's and a 304's are the resource's.
  const type = upstream.status === 416 ? '' : String(upstream.headers['content-type'] ?? '');
  const range = parseContentRange(String(upstream.headers['content-range'] ?? ''));
  const size = range.kind === 'invalid' ? undefined : range.size;
  if ((type !== '' && !DISGUISED_PLAYLIST_TYPE.test(type)) || (size !== undefined && size > MAX_PLAYLIST_BYTES)) return 'media';
  const probe = await session.fetch('HEAD', {});
  discardBody(probe.body);
  const byHeaders = { contentType: String(probe.headers['content-type'] ?? ''), url: probe.url };
  if (detectPlaylist(byHeaders) === 'playlist') return 'playlist';
  if (detectManifest(byHeaders) === 'manifest') return 'manifest';
  return (await headIsPlaylist(probe, session)) ? 'playlist' : 'media';
}

/**
 * The lineage the links of a playlist inherit: an entry playlist starts one, named by the URL the
 * resolver gave (`playlistUrl`: without Delivery Directives) or, after a refresh, the fresh one's;
 * a link's playlist that was relocated hands on the generation it was found under (its links are
 * fresh ones).
 */
function playlistLineage(source: FreshTargetSource, session: UpstreamSession, playlistUrl: string): LinkLineage | undefined {
  if (source.kind === 'link') {
    const { lineage } = source;
    return lineage === undefined || session.generation === undefined ? lineage : { ...lineage, fingerprint: session.generation };
  }
  return { episode: source.episode, fingerprint: session.generation ?? entryFingerprint(playlistUrl), route: [] };
}

/** Adds the headers a request-derived base depends on to `Vary`. */
function varyOnBase(ctx: RequestContext, base: UsableBase): void {
  if (base.kind === 'fromRequest') ctx.vary(BASE_VARY_HEADERS);
}

async function respondPlaylist(
  runtime: ProxyRuntime,
  ctx: RequestContext,
  session: UpstreamSession,
  fetched: { upstream: UpstreamResponse; head: Buffer[]; requested: Requested; document: Exclude<Document, 'media'> },
): Promise<void> {
  let { upstream, head } = fetched;
  if (!carriesWholeBody(upstream)) {
    // A playlist is rewritten whole, and its validators are the proxy's (held-document.ts):
    // a part, a 304 or a 416 answers the client's Range or conditionals, so ask again without them.
    discardBody(upstream.body);
    head = [];
    upstream = await session.fetch('GET', {});
    if (upstream.status !== 200) {
      discardBody(upstream.body);
      const passed = upstream.status >= 400 && upstream.status !== 416;
      throw new ProxyError('STRM_UPSTREAM_FAILED', `the upstream answered ${upstream.status}`, { status: passed ? upstream.status : 502 });
    }
  }
  const { requested } = fetched;
  const base = requested.base.kind === 'relative' ? undefined : requested.base.base;
  // The URIs depend on the request's Host and forwarded headers: a cache that stores the
  // document despite no-store must keep one per combination.
  varyOnBase(ctx, requested.base);
  if (fetched.document === 'steering') {
    const lineage = requested.source.kind === 'link' ? playlistLineage(requested.source, session, requested.playlistUrl) : undefined;
    await sendSteering(ctx, { upstream, head, request: { deps: runtime, tokens: runtime.tokens, headers: session.target.headers, lineage, multivariant: requested.multivariant, base } });
    return;
  }
  if (fetched.document === 'manifest') {
    await sendManifest(ctx, {
      upstream,
      head,
      request: manifestRequest(runtime, ctx, session, playlistLineage(requested.source, session, requested.playlistUrl), base),
      limits: runtime.config.rewriteLimits,
    });
    return;
  }
  const sealTime = runtime.sealTimes.forRewrite(requested.playlistUrl, nowSeconds(runtime));
  const rewriteUri = linkMinter(runtime.tokens, {
    target: session.target,
    lineage: playlistLineage(requested.source, session, requested.playlistUrl),
    subtitles: requested.subtitles,
    servedFrom: ctx.route,
    base: requested.base.kind === 'relative' ? undefined : requested.base.base,
    sealTime,
    renditions: runtime.renditions,
  });
  const scan = new PlaylistScan();
  // The imports of the playlist as fetched: a relocated link's come from the fresh multivariant playlist.
  await sendPlaylist(ctx, { upstream, head, rewriteUri, scan, limits: runtime.config.rewriteLimits, imports: session.target.variables });
  if (scan.seconds !== undefined) runtime.targetDurations.remember(requested.playlistUrl, scan.seconds);
  if (scan.ended) runtime.sealTimes.ended(requested.playlistUrl);
}
