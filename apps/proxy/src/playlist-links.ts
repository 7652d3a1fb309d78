import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { detectManifest, MAX_SNIFF_BYTES, rewriteManifest } from '@strm/dash-rewrite';
import { mediaFileName, PlaylistRewriter, sniffPlaylist, type UriContext, type UriKind } from '@strm/hls-rewrite';
import type { EpisodeIdentity, ResolverClient } from '@strm/resolver-client';
import type { TokenSealer, UnixSeconds } from '@strm/signing';
import type { SealTime } from './seal-times';
import { discardBody } from './body-pump';
import { resolveEpisode } from './resolve-episode';
import { ProxyError } from './errors';
import { proxyReference, referenceTooLong } from './reference-base';
import { pacedPieces } from './rewrite-limits';
import { identityFromTuple, identityTuple, openProxyToken, type ProxyTokenPayload } from './tokens';
import { attemptWithRetry, type UpstreamDeps, type UpstreamTarget } from './upstream-retry';
import { setNewest } from './bounded-map';

/** The largest playlist the proxy reads (docs/contract.md, "Limits"). */
export const MAX_PLAYLIST_BYTES = 16 * 1024 * 1024;

/**
 * Where a link descends from, so that its URL can be found again once it went stale: the
 * episode, the fingerprint of the entry URL it was minted under, and its route (the index of the
 * URI in each playlist from the entry playlist down).
 */
export interface LinkLineage {
  episode: EpisodeIdentity;
  fingerprint: string;
  route: readonly number[];
}

/** What a proxy link carries, by name (on the wire the keys are short: see `ProxyTokenPayload`). */
export interface LinkPayload {
  /** The absolute upstream URL. */
  url: string;
  /** The upstream headers the resolver asked for. */
  headers: Record<string, string>;
  /** `manifest`: a DASH MPD (or MPD patch) to rewrite in turn. */
  kind: UriKind | 'manifest';
  lineage: LinkLineage | undefined;
  /** The playlist of a subtitle rendition: its segments are named `.vtt`. */
  subtitles: boolean;
  /**
   * A sealed DASH directory (`url` ends in `/`): the request path after the token is resolved
   * against it, with `query` (the upstream URL's own, never shown to the client) before the
   * request's query (see `sealed-path.ts`).
   */
  sealedDirectory?: { query: string | undefined };
  /** A content steering manifest: the URL of the multivariant playlist that named it (see `respond-steering.ts`). */
  multivariant?: string;
  /** A media playlist's imports: the variables of the multivariant playlist it was minted in. */
  variables?: Readonly<Record<string, string>>;
}

/** A playlist that is larger than the proxy reads (answered as `STRM_BAD_PLAYLIST`). */
export class PlaylistTooLargeError extends Error {
  readonly code = 'STRM_PLAYLIST_TOO_LARGE' as const;

  constructor() {
    super(`the upstream playlist is larger than ${MAX_PLAYLIST_BYTES / 1024 / 1024} MiB`);
    this.name = 'PlaylistTooLargeError';
  }
}

/** The wire form of a link's payload: one token per playlist URI, so the keys are short. */
export function linkToWire(link: LinkPayload): ProxyTokenPayload {
  const wire: ProxyTokenPayload = { u: link.url, k: link.kind };
  if (Object.keys(link.headers).length > 0) wire.h = link.headers;
  if (link.subtitles) wire.s = 1;
  if (link.sealedDirectory !== undefined) {
    wire.p = 1;
    if (link.sealedDirectory.query !== undefined) wire.q = link.sealedDirectory.query;
  }
  if (link.multivariant !== undefined) wire.m = link.multivariant;
  if (link.variables !== undefined) wire.v = { ...link.variables };
  if (link.lineage !== undefined) {
    wire.i = identityTuple(link.lineage.episode);
    wire.e = link.lineage.fingerprint;
    wire.r = [...link.lineage.route];
  }
  return wire;
}

/** The named form of a link's wire payload. */
export function linkFromWire(wire: ProxyTokenPayload): LinkPayload {
  const lineage = wire.i !== undefined && wire.e !== undefined
    ? { episode: identityFromTuple(wire.i), fingerprint: wire.e, route: wire.r ?? [] }
    : undefined;
  const link: LinkPayload = { url: wire.u, headers: wire.h ?? {}, kind: wire.k, lineage, subtitles: wire.s === 1 };
  if (wire.p === 1) link.sealedDirectory = { query: wire.q };
  if (wire.m !== undefined) link.multivariant = wire.m;
  if (wire.v !== undefined) link.variables = wire.v;
  return link;
}

/** Opens the token of a `/strm/proxy/<token>/<name>` request, or throws a 401. */
export function openLink(tokens: TokenSealer<ProxyTokenPayload>, token: string, nowSeconds: UnixSeconds): LinkPayload {
  return linkFromWire(openProxyToken(tokens, token, nowSeconds));
}

/**
 * A short fingerprint of an entry URL, kept in links to tell whether the episode has been
 * re-resolved since they were minted.
 *
 * @example
 * entryFingerprint('https://cdn.example/master.m3u8') // 11 base64url characters
 */
export function entryFingerprint(url: string): string {
  return createHash('sha256').update(url).digest('base64url').slice(0, 11);
}

/** URIs per group of a segment position, and the largest group a safe integer holds with them. */
const ORDINALS_PER_GROUP = 65_536;
const MAX_GROUP = Math.floor(Number.MAX_SAFE_INTEGER / ORDINALS_PER_GROUP) - 2;

/**
 * Gives each URI of one playlist, in the order the rewriter meets them, the number its link's
 * route records. Minting and relocation both go through it, so a route element names the same
 * URI in both.
 * - In a multivariant playlist: the URI's index (0, 1, …), as links always had.
 * - In a media playlist: a negative **segment position**, `-(1 + group * 65536 + ordinal)`. The
 *   group is 0 for the URIs before the first segment's URI line (where a live playlist keeps its
 *   `EXT-X-MAP` and current key) and the segment's Media Sequence Number + 1 for the others; the
 *   ordinal is 0 for the segment's URI line and counts the group's tag URIs (parts, key, map…)
 *   from 1, so that a segment keeps its number when an LL-HLS server drops its parts. When a
 *   live window slides, every URI that
 *   stays keeps its position, so its link stays the same (a reload mints nothing new), and a
 *   stale link is relocated to the same segment of the fresh playlist rather than to whatever
 *   moved to its index. Past the range of a safe integer it falls back to the index.
 * Routes of links minted before positions existed hold only indexes, which still resolve.
 */
function positionedUris(each: (context: UriContext, position: number, index: number) => string): (context: UriContext) => string {
  let index = 0;
  let afterFirstSegment = false;
  let group = -1;
  let tagOrdinal = 0;
  return (context) => {
    const at = index++;
    const sequence = context.sequenceNumber;
    if (sequence === undefined) return each(context, at, at);
    const isSegmentLine = context.tag === undefined;
    const uriGroup = isSegmentLine || afterFirstSegment ? sequence + 1 : 0;
    if (isSegmentLine) afterFirstSegment = true;
    if (uriGroup !== group) tagOrdinal = 0;
    group = uriGroup;
    const ordinal = isSegmentLine ? 0 : ++tagOrdinal;
    if (uriGroup > MAX_GROUP || ordinal >= ORDINALS_PER_GROUP) return each(context, at, at);
    return each(context, -(1 + uriGroup * ORDINALS_PER_GROUP + ordinal), at);
  };
}

/** The playlist whose URIs are being minted into links. */
export interface MintingPlaylist {
  /** The URL and headers it was fetched with. */
  target: UpstreamTarget;
  lineage: LinkLineage | undefined;
  subtitles: boolean;
  /** The endpoint that serves it: links without a base are relative to it. */
  servedFrom: 'stream' | 'proxy';
  /** Where the links point (`reference-base.ts`); undefined = relative to `servedFrom`. */
  base?: string | undefined;
  /**
   * When each link is sealed, by its upstream URL (`seal-times.ts`): links sealed at the same
   * instant repeat their URIs; undefined = the sealer's clock.
   */
  sealTime?: SealTime | undefined;
  /** Where the links of multivariant playlists are remembered for rendition reports. */
  renditions?: RenditionLinks;
}

/** How many links of multivariant playlists to media playlists are remembered. */
const REMEMBERED_RENDITIONS = 2048;

/**
 * The links multivariant playlists gave their media playlists, so that a rendition report in one
 * of them (RFC 8216bis 4.4.5.4) hands out the very URI the player holds for that rendition: a
 * player finds a report by the URI of the rendition it switches to. A report's own position would
 * give it another route, so its link is the remembered one; tokens are deterministic, so sealing
 * that link again in the same expiry bucket gives the same URI. Per process and bounded: a report
 * whose rendition is not remembered (another replica rewrote the multivariant playlist) keeps a
 * link of its own, which plays the same but is not recognised as the same rendition.
 */
export class RenditionLinks {
  readonly #links = new Map<string, { link: LinkPayload; name: string }>();

  /** Remembers the link of a media playlist minted in a multivariant playlist. */
  remember(link: LinkPayload & { lineage: LinkLineage }, name: string): void {
    setNewest(this.#links, `${playlistKey(link.lineage)}\n${link.url}`, { link, name }, REMEMBERED_RENDITIONS);
  }

  /** The link the multivariant playlist above the media playlist of `lineage` gave to `url`. */
  find(lineage: LinkLineage, url: string): { link: LinkPayload; name: string } | undefined {
    return this.#links.get(`${playlistKey(lineage)}\n${url}`);
  }
}

/**
 * Seals a link into the reference a rewritten document hands out (`<base>/strm/proxy/<token>/<name>`),
 * or throws `STRM_URI_TOO_LONG` when a player would cut it.
 */
export function mintReference(tokens: TokenSealer<ProxyTokenPayload>, link: LinkPayload, name: string, at: Pick<MintingPlaylist, 'servedFrom' | 'base' | 'sealTime'>): string {
  const sealed = tokens.seal(linkToWire(link), at.sealTime === undefined ? {} : { now: at.sealTime(link.url) });
  const reference = proxyReference(sealed, name, at.servedFrom, at.base);
  if (referenceTooLong(reference)) {
    throw new ProxyError('STRM_URI_TOO_LONG', 'a rewritten playlist URI would be longer than players accept (4096 bytes): the upstream URL or the resolver headers are too long');
  }
  return reference;
}

/**
 * The variables a link carries for the playlist it points to (RFC 8216bis 4.4.2.3): only media
 * playlists import, and only from the multivariant playlist they were loaded from, so only the
 * playlist URIs of a multivariant playlist carry its variables (those defined before the URI: a
 * streamed rewrite cannot wait for later ones), and a rendition report carries the imports of
 * the playlist that reports it (the same multivariant playlist's). Nothing else carries any:
 * every byte counts against the length of each URI.
 */
function carriedVariables(context: UriContext, imports: Readonly<Record<string, string>> | undefined): Readonly<Record<string, string>> | undefined {
  if (context.kind !== 'playlist') return undefined;
  if (context.isMaster) return context.variables === undefined ? undefined : Object.fromEntries(context.variables);
  return context.tag === 'EXT-X-RENDITION-REPORT' ? imports : undefined;
}

/**
 * Remembers a multivariant playlist's link to a media playlist, or finds the link a rendition
 * report must repeat (see {@link RenditionLinks}).
 */
function sameRendition(playlist: MintingPlaylist, context: UriContext, link: LinkPayload, name: string): { link: LinkPayload; name: string } | undefined {
  const { renditions, lineage } = playlist;
  if (renditions === undefined || lineage === undefined || link.lineage === undefined || context.kind !== 'playlist') return undefined;
  if (context.isMaster) renditions.remember({ ...link, lineage: link.lineage }, name);
  else if (context.tag === 'EXT-X-RENDITION-REPORT') return renditions.find(lineage, context.href);
  return undefined;
}

/**
 * The `rewriteUri` of a playlist: seals each URI into a link that carries what is needed to fetch
 * it again, and names it for players that check extensions.
 */
export function linkMinter(tokens: TokenSealer<ProxyTokenPayload>, playlist: MintingPlaylist): (context: UriContext) => string {
  const { lineage } = playlist;
  return positionedUris((context, position) => {
    const link: LinkPayload = {
      url: context.href,
      headers: playlist.target.headers,
      kind: context.kind,
      lineage: lineage === undefined ? undefined : { ...lineage, route: [...lineage.route, position] },
      subtitles: context.type === 'SUBTITLES' && context.tag === 'EXT-X-MEDIA',
    };
    const variables = carriedVariables(context, playlist.target.variables);
    if (variables !== undefined) link.variables = variables;
    const name = mediaFileName(context, { subtitles: playlist.subtitles });
    const rendition = sameRendition(playlist, context, link, name);
    if (rendition !== undefined) return mintReference(tokens, rendition.link, rendition.name, playlist);
    if (context.kind === 'steering') {
      // A steering manifest's HOST/PARAMS clones are expanded from this playlist's variants. A link
      // too long with this playlist's URL goes without: its clones then stay on their base pathway.
      try {
        return mintReference(tokens, { ...link, multivariant: playlist.target.url }, name, playlist);
      } catch (error) {
        if (!(error instanceof ProxyError && error.code === 'STRM_URI_TOO_LONG')) throw error;
      }
    }
    return mintReference(tokens, link, name, playlist);
  });
}

/**
 * The chunks of a playlist body (after the `head` already read from it), up to
 * {@link MAX_PLAYLIST_BYTES}; a larger playlist throws {@link PlaylistTooLargeError}.
 */
export async function* cappedPlaylistChunks(head: readonly Buffer[], body: Readable): AsyncGenerator<Buffer> {
  let size = 0;
  const counted = (chunk: Buffer) => {
    size += chunk.length;
    if (size > MAX_PLAYLIST_BYTES) throw new PlaylistTooLargeError();
    return chunk;
  };
  for (const chunk of head) yield counted(chunk);
  if (body.readableEnded) return;
  for await (const chunk of body) yield counted(chunk as Buffer);
}

/**
 * A whole playlist (or manifest) fetched for the proxy's own use, not a client's: asked like any
 * upstream request (5xx retry, counted), 200 only, capped at {@link MAX_PLAYLIST_BYTES}. Shared
 * work is not tied to one client's abort signal: the upstream timeouts bound it.
 */
export async function readUpstreamPlaylist(deps: UpstreamDeps, target: UpstreamTarget): Promise<{ body: Buffer; url: string; contentType: string }> {
  const attempt = await attemptWithRetry(deps, target, { method: 'GET', conditionals: {} });
  if ('error' in attempt) throw attempt.error;
  const response = attempt.upstream;
  if (response.status !== 200) {
    discardBody(response.body);
    throw new Error(`the playlist answered ${response.status}`);
  }
  const chunks: Buffer[] = [];
  for await (const chunk of cappedPlaylistChunks([], response.body)) chunks.push(chunk);
  return { body: Buffer.concat(chunks), url: String(response.url), contentType: String(response.headers['content-type'] ?? '') };
}

/** How many playlists' URI lists are kept to relocate the URIs of a stale playlist. */
const CACHED_PLAYLISTS = 32;
/** A URI of a fresh playlist, as a relocation walks through it. */
interface LocatedUri {
  href: string;
  /** What its link would carry for `EXT-X-DEFINE:IMPORT` (see {@link carriedVariables}). */
  variables: Readonly<Record<string, string>> | undefined;
}

/** The key of a playlist's URI list: a media playlist reads differently under other imports. */
function cacheKey(target: UpstreamTarget): string {
  return target.variables === undefined ? target.url : `${target.url} ${JSON.stringify(target.variables)}`;
}

/** How many playlists known to be stale are remembered (their links are relocated before they are asked). */
const MOVED_PLAYLISTS = 256;

/** Where a stale link lives now, and whether finding it took a re-resolution of its episode. */
export interface Relocation {
  target: UpstreamTarget;
  reResolved: boolean;
  /** The fingerprint of the entry URL the target was found under: links minted from it are of that generation. */
  generation: string;
}

/** How a relocation is asked for. */
export interface RelocateOptions {
  /** The URL that just answered stale. */
  staleUrl?: string | undefined;
  /** Relocating ahead (the link's playlist is known to have moved): walk the cached resolution, never re-resolve. */
  ahead?: boolean;
  /** Maps the URL the route leads to onto the one to fetch (a sealed DASH directory: the request's rest below it). */
  reanchor?: ((fresh: UpstreamTarget) => UpstreamTarget | undefined) | undefined;
}

/** The playlist a link was minted in: its episode, generation and route without the link's own index. */
function playlistKey(lineage: LinkLineage): string {
  return JSON.stringify([identityTuple(lineage.episode), lineage.fingerprint, lineage.route.slice(0, -1)]);
}

/**
 * Finds where a link of a stale playlist lives now. When its upstream URL goes stale, the
 * episode is re-resolved (once: concurrent and later failures of the same generation share the
 * fresh resolution) and the link's route is walked again through the fresh playlists, which
 * works whatever the CDN signs: paths, queries or each segment on its own. Playlists are fetched
 * like any upstream request (5xx retry, counted in the upstream metric).
 */
export class Relocator {
  readonly #deps: UpstreamDeps;
  readonly #resolver: ResolverClient;
  readonly #playlists = new Map<string, Promise<Map<number, LocatedUri>>>();
  readonly #moved = new Map<string, true>();

  constructor(deps: UpstreamDeps & { resolver: ResolverClient }) {
    this.#deps = deps;
    this.#resolver = deps.resolver;
  }

  /**
   * Whether another link of the same playlist (same generation) has been relocated after a stale
   * answer: this link's own URL is then stale too, and is relocated before it is asked.
   */
  hasMoved(lineage: LinkLineage): boolean {
    // Asked for every link request: no key is built while nothing has moved.
    return this.#moved.size > 0 && this.#moved.has(playlistKey(lineage));
  }

  /**
   * The fresh target of the link with this lineage; undefined if it cannot be found. The episode is
   * re-resolved when the cached resolution is still the link's own generation, or when the route,
   * walked through the cached resolution, leads back to the URL that just went stale (a second
   * expiry in the same playback). Relocating ahead only walks: it never re-resolves.
   */
  async relocate(lineage: LinkLineage, options: RelocateOptions = {}): Promise<Relocation | undefined> {
    const { episode, fingerprint, route } = lineage;
    const ahead = options.ahead === true;
    let stored = await resolveEpisode(this.#resolver, episode, {});
    let reResolved = false;
    if (!ahead && entryFingerprint(stored.resolution.url) === fingerprint) {
      stored = await resolveEpisode(this.#resolver, episode, { refresh: true, staleUrl: stored.resolution.url });
      reResolved = true;
    }
    let walked = await this.#walk({ url: stored.resolution.url, headers: stored.resolution.headers }, route, options.reanchor);
    const leadsBack = walked.target !== undefined && options.staleUrl !== undefined && walked.target.url === options.staleUrl;
    if (!ahead && !reResolved && (walked.failed || leadsBack)) {
      // The generation this link was relocated to expired as well (its playlists, or the URL the
      // route leads to, answer stale): a second expiry in the same playback. Read it all afresh.
      for (const key of walked.playlists) this.#playlists.delete(key);
      stored = await resolveEpisode(this.#resolver, episode, { refresh: true, staleUrl: stored.resolution.url });
      reResolved = true;
      walked = await this.#walk({ url: stored.resolution.url, headers: stored.resolution.headers }, route, options.reanchor);
    }
    if (walked.failed) throw walked.error;
    if (walked.target === undefined) return undefined;
    if (!ahead) this.#remember(playlistKey(lineage));
    return { target: walked.target, reResolved, generation: entryFingerprint(stored.resolution.url) };
  }

  /**
   * The target a route leads to from an entry URL (undefined: the route leads nowhere), the
   * playlists read on the way, and whether one of them could not be read.
   */
  async #walk(entry: UpstreamTarget, route: readonly number[], reanchor: RelocateOptions['reanchor']): Promise<{ target?: UpstreamTarget | undefined; playlists: string[]; failed: boolean; error?: unknown }> {
    const { headers } = entry;
    let target: UpstreamTarget = entry;
    const playlists: string[] = [];
    for (const index of route) {
      playlists.push(cacheKey(target));
      let uris: Map<number, LocatedUri>;
      try {
        uris = await this.#uris(target);
      } catch (error) {
        return { playlists, failed: true, error };
      }
      const next = uris.get(index);
      if (next === undefined) return { playlists, failed: false };
      // The fresh multivariant playlist's variables (a QUERYPARAM may hold the fresh CDN token).
      target = next.variables === undefined ? { url: next.href, headers } : { url: next.href, headers, variables: next.variables };
    }
    return { target: reanchor === undefined ? target : reanchor(target), playlists, failed: false };
  }

  #remember(key: string): void {
    setNewest(this.#moved, key, true, MOVED_PLAYLISTS);
  }

  // Shared by concurrent relocations, so not tied to one client's abort signal: the upstream
  // timeouts bound it.
  #uris(target: UpstreamTarget): Promise<Map<number, LocatedUri>> {
    const key = cacheKey(target);
    const cached = this.#playlists.get(key);
    if (cached !== undefined) return cached;
    const loading = this.#load(target);
    setNewest(this.#playlists, key, loading, CACHED_PLAYLISTS);
    loading.catch(() => this.#playlists.delete(key));
    return loading;
  }

  /**
   * The absolute URIs of a playlist by the numbers routes hold (its position, and its index for
   * routes minted before positions), with the variables each carries.
   */
  async #load(target: UpstreamTarget): Promise<Map<number, LocatedUri>> {
    const { body, url, contentType } = await readUpstreamPlaylist(this.#deps, target);
    const uris = new Map<number, LocatedUri>();
    // A DASH manifest's URLs, numbered in the order its links were minted (respond-mpd.ts).
    if (detectManifest({ contentType, url, head: body.subarray(0, MAX_SNIFF_BYTES) }) === 'manifest' && sniffPlaylist(body.subarray(0, 16)) !== 'playlist') {
      let index = 0;
      rewriteManifest(body.toString('utf8'), { baseUrl: url, rewriteUrl: (context) => (uris.set(index++, { href: context.href, variables: undefined }), context.uri) });
      return uris;
    }
    const rewriter = new PlaylistRewriter({
      baseUrl: url,
      ...(target.variables !== undefined ? { imports: target.variables } : {}),
      rewriteUri: positionedUris((context, position, index) => {
        const located = { href: context.href, variables: carriedVariables(context, target.variables) };
        uris.set(index, located);
        uris.set(position, located);
        return context.uri;
      }),
    });
    // Paced like a response's rewrite: a relocation must not hold other requests up either.
    for await (const piece of pacedPieces([body], 0x0a)) rewriter.push(piece);
    rewriter.end();
    return uris;
  }
}
