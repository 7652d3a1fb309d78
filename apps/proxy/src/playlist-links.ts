import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { detectManifest, MAX_SNIFF_BYTES, rewriteManifest } from '@strm/dash-rewrite';
import { mediaFileName, PlaylistRewriter, sniffPlaylist, type UriContext, type UriKind } from '@strm/hls-rewrite';
import type { EpisodeIdentity, ResolverClient } from '@strm/resolver-client';
import type { TokenSealer, UnixSeconds } from '@strm/signing';
import { discardBody } from './body-pump';
import { resolveEpisode } from './resolve-episode';
import { ProxyError } from './errors';
import { proxyReference, referenceTooLong } from './reference-base';
import { pacedPieces } from './rewrite-limits';
import { identityFromTuple, identityTuple, openProxyToken, type ProxyTokenPayload } from './tokens';
import { attemptWithRetry, type UpstreamDeps, type UpstreamTarget } from './upstream-retry';

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

/**
 * Numbers the URIs of one playlist in the order the rewriter meets them. Minting and relocation
 * both go through it, so a link's route index always names the same URI in both.
 */
function numberedUris(each: (context: UriContext, index: number) => string): (context: UriContext) => string {
  let index = 0;
  return (context) => each(context, index++);
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
}

/**
 * Seals a link into the reference a rewritten document hands out (`<base>/strm/proxy/<token>/<name>`),
 * or throws `STRM_URI_TOO_LONG` when a player would cut it.
 */
export function mintReference(tokens: TokenSealer<ProxyTokenPayload>, link: LinkPayload, name: string, at: Pick<MintingPlaylist, 'servedFrom' | 'base'>): string {
  const reference = proxyReference(tokens.seal(linkToWire(link)), name, at.servedFrom, at.base);
  if (referenceTooLong(reference)) {
    throw new ProxyError('STRM_URI_TOO_LONG', 'a rewritten playlist URI would be longer than players accept (4096 bytes): the upstream URL or the resolver headers are too long');
  }
  return reference;
}

/**
 * The `rewriteUri` of a playlist: seals each URI into a link that carries what is needed to fetch
 * it again, and names it for players that check extensions.
 */
export function linkMinter(tokens: TokenSealer<ProxyTokenPayload>, playlist: MintingPlaylist): (context: UriContext) => string {
  const { lineage } = playlist;
  return numberedUris((context, index) => {
    const link: LinkPayload = {
      url: context.href,
      headers: playlist.target.headers,
      kind: context.kind,
      lineage: lineage === undefined ? undefined : { ...lineage, route: [...lineage.route, index] },
      subtitles: context.type === 'SUBTITLES' && context.tag === 'EXT-X-MEDIA',
    };
    const name = mediaFileName(context, { subtitles: playlist.subtitles });
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
  readonly #playlists = new Map<string, Promise<string[]>>();
  readonly #moved = new Set<string>();

  constructor(deps: UpstreamDeps & { resolver: ResolverClient }) {
    this.#deps = deps;
    this.#resolver = deps.resolver;
  }

  /**
   * Whether another link of the same playlist (same generation) has been relocated after a stale
   * answer: this link's own URL is then stale too, and is relocated before it is asked.
   */
  hasMoved(lineage: LinkLineage): boolean {
    return this.#moved.has(playlistKey(lineage));
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
      for (const url of walked.playlists) this.#playlists.delete(url);
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
    let url = entry.url;
    const playlists: string[] = [];
    for (const index of route) {
      playlists.push(url);
      let uris: string[];
      try {
        uris = await this.#uris({ url, headers });
      } catch (error) {
        return { playlists, failed: true, error };
      }
      const next = uris[index];
      if (next === undefined) return { playlists, failed: false };
      url = next;
    }
    return { target: reanchor === undefined ? { url, headers } : reanchor({ url, headers }), playlists, failed: false };
  }

  #remember(key: string): void {
    this.#moved.delete(key);
    this.#moved.add(key);
    if (this.#moved.size > MOVED_PLAYLISTS) this.#moved.delete(this.#moved.values().next().value!);
  }

  // Shared by concurrent relocations, so not tied to one client's abort signal: the upstream
  // timeouts bound it.
  #uris(target: UpstreamTarget): Promise<string[]> {
    const cached = this.#playlists.get(target.url);
    if (cached !== undefined) return cached;
    const loading = this.#load(target);
    this.#playlists.set(target.url, loading);
    if (this.#playlists.size > CACHED_PLAYLISTS) this.#playlists.delete(this.#playlists.keys().next().value!);
    loading.catch(() => this.#playlists.delete(target.url));
    return loading;
  }

  /** The absolute URIs of a playlist, numbered as its links are. */
  async #load(target: UpstreamTarget): Promise<string[]> {
    const { body, url, contentType } = await readUpstreamPlaylist(this.#deps, target);
    const uris: string[] = [];
    // A DASH manifest's URLs, numbered in the order its links were minted (respond-mpd.ts).
    if (detectManifest({ contentType, url, head: body.subarray(0, MAX_SNIFF_BYTES) }) === 'manifest' && sniffPlaylist(body.subarray(0, 16)) !== 'playlist') {
      let index = 0;
      rewriteManifest(body.toString('utf8'), { baseUrl: url, rewriteUrl: (context) => ((uris[index++] = context.href), context.uri) });
      return uris;
    }
    const rewriter = new PlaylistRewriter({
      baseUrl: url,
      rewriteUri: numberedUris((context, index) => {
        uris[index] = context.href;
        return context.uri;
      }),
    });
    // Paced like a response's rewrite: a relocation must not hold other requests up either.
    for await (const piece of pacedPieces([body], 0x0a)) rewriter.push(piece);
    rewriter.end();
    return uris;
  }
}
