import { createHash } from 'node:crypto';
import { PlaylistRewriter } from '@strm/hls-rewrite';
import type { EpisodeIdentity, StoredResolution } from '@strm/resolver-client';
import type { UpstreamTarget } from './fetch-resource';
import { discardBody } from './body-pump';
import { MAX_PLAYLIST_BYTES } from './respond-playlist';
import { upstreamRequestHeaders, type UpstreamFetcher } from './upstream';

/** A short tag of an entry URL, kept in proxy tokens to tell whether it has been re-resolved since. */
export function entryTag(url: string): string {
  return createHash('sha256').update(url).digest('base64url').slice(0, 11);
}

/** How many playlists' URI lists are kept to relocate the URIs of a stale playlist. */
const CACHED_PLAYLISTS = 32;

/**
 * Finds where a URI of a stale playlist lives now. A proxy token remembers the episode, the tag
 * of the entry URL it descends from and its route (the index of each URI from the entry playlist
 * down). When its upstream URL goes stale, the episode is re-resolved (once: concurrent and
 * later failures of the same generation share the fresh resolution) and the route is walked
 * again through the fresh playlists, which works whatever the CDN signs: paths, queries or each
 * segment on its own.
 */
export class Relocator {
  readonly #upstream: UpstreamFetcher;
  readonly #resolve: (identity: EpisodeIdentity, options: { refresh?: boolean; staleUrl?: string }) => Promise<StoredResolution>;
  readonly #playlists = new Map<string, Promise<string[]>>();

  constructor(options: {
    upstream: UpstreamFetcher;
    resolve: (identity: EpisodeIdentity, options: { refresh?: boolean; staleUrl?: string }) => Promise<StoredResolution>;
  }) {
    this.#upstream = options.upstream;
    this.#resolve = options.resolve;
  }

  /** The fresh target of the URI at `route` below the entry tagged `tag`; undefined if it cannot be found. */
  async relocate(identity: EpisodeIdentity, tag: string, route: readonly number[]): Promise<UpstreamTarget | undefined> {
    let stored = await this.#resolve(identity, {});
    if (entryTag(stored.resolution.url) === tag) {
      stored = await this.#resolve(identity, { refresh: true, staleUrl: stored.resolution.url });
    }
    const headers = stored.resolution.headers;
    let url = stored.resolution.url;
    for (const index of route) {
      const uris = await this.#uris(url, headers);
      const next = uris[index];
      if (next === undefined) return undefined;
      url = next;
    }
    return { url, headers };
  }

  /** The absolute URIs of a playlist, in rewrite order (the order of the routes' indices). */
  // Shared by concurrent relocations, so not tied to one client's abort signal: the upstream
  // timeouts bound it.
  #uris(url: string, headers: Record<string, string>): Promise<string[]> {
    const cached = this.#playlists.get(url);
    if (cached !== undefined) return cached;
    const loading = this.#load(url, headers);
    this.#playlists.set(url, loading);
    if (this.#playlists.size > CACHED_PLAYLISTS) this.#playlists.delete(this.#playlists.keys().next().value!);
    loading.catch(() => this.#playlists.delete(url));
    return loading;
  }

  async #load(url: string, headers: Record<string, string>): Promise<string[]> {
    const response = await this.#upstream.fetch({ url, method: 'GET', headers: upstreamRequestHeaders(headers, {}) });
    if (response.status !== 200) {
      discardBody(response.body);
      throw new Error(`the playlist answered ${response.status}`);
    }
    const uris: string[] = [];
    const rewriter = new PlaylistRewriter({
      baseUrl: response.url,
      rewriteUri: (context) => {
        uris.push(context.href);
        return context.uri;
      },
    });
    let size = 0;
    for await (const chunk of response.body) {
      size += (chunk as Buffer).length;
      if (size > MAX_PLAYLIST_BYTES) throw new Error('the playlist is too large');
      rewriter.push(chunk as Buffer);
    }
    rewriter.end();
    return uris;
  }
}
