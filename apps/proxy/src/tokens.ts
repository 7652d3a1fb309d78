import type { UriKind } from '@strm/hls-rewrite';
import type { EpisodeIdentity } from '@strm/resolver-client';
import { createTokenSealer, type TokenSealer, type UnixSeconds } from '@strm/signing';
import { ProxyError } from './errors';

/**
 * What a proxy token carries, with short keys because one token is minted per playlist URI.
 * - `u` the absolute upstream URL, `h` the upstream headers, `k` the kind of resource;
 * - `i` the episode, `e` a tag of the entry URL it descends from and `r` the route to this URI
 *   (the number of the URI in each playlist from the entry playlist down: an index, or a
 *   segment position, see `positionedUris`), so that a stale URL can be found again after a
 *   re-resolution.
 */
export interface ProxyTokenPayload {
  u: string;
  h?: Record<string, string>;
  /** `manifest`: a DASH MPD (or MPD patch) to rewrite in turn. */
  k: UriKind | 'manifest';
  /**
   * 1 when `u` is a sealed directory of a DASH manifest: the request path after the token is
   * resolved against it (templates are expanded by the player), see `sealed-path.ts`.
   */
  p?: 1;
  /** With `p`: the upstream query of the sealed URL, put before the request's own. */
  q?: string;
  i?: [site: string, slug: string, season: number, episode: number, language: string, provider?: string];
  e?: string;
  r?: number[];
  /** 1 for the playlist of a subtitle rendition: its segments are named `.vtt`. */
  s?: 1;
  /** A content steering manifest's: the multivariant playlist's URL, whose variants `HOST`/`PARAMS` clones are expanded from. */
  m?: string;
  /**
   * The variables of the multivariant playlist a media playlist link was minted in, for its
   * `EXT-X-DEFINE:IMPORT` (only on links of kind `playlist`; see `playlist-links.ts`).
   */
  v?: Record<string, string>;
}

export function identityTuple(identity: EpisodeIdentity): NonNullable<ProxyTokenPayload['i']> {
  const tuple: NonNullable<ProxyTokenPayload['i']> = [identity.site, identity.slug, identity.season, identity.episode, identity.language];
  if (identity.provider !== undefined) tuple.push(identity.provider);
  return tuple;
}

export function identityFromTuple(tuple: NonNullable<ProxyTokenPayload['i']>): EpisodeIdentity {
  const [site, slug, season, episode, language, provider] = tuple;
  return { site, slug, season, episode, language, ...(provider !== undefined ? { provider } : {}) };
}

export function createProxyTokens(options: { secret: string; previousSecrets: readonly string[]; ttlSeconds: number }): TokenSealer<ProxyTokenPayload> {
  return createTokenSealer<ProxyTokenPayload>({ secret: options.secret, previousSecrets: options.previousSecrets, ttlSeconds: options.ttlSeconds });
}

/** Opens the token of a `/strm/proxy/<token>/<name>` request, or throws a 401. */
export function openProxyToken(tokens: TokenSealer<ProxyTokenPayload>, token: string, nowSeconds: UnixSeconds): ProxyTokenPayload {
  const opened = tokens.open(token, { now: nowSeconds });
  if (opened.ok) return opened.payload;
  if (opened.reason === 'expired') {
    throw new ProxyError('STRM_TOKEN_EXPIRED', 'this proxy link has expired: reload the playlist it came from');
  }
  throw new ProxyError('STRM_TOKEN_INVALID', 'this proxy link is not valid');
}
