import type { EpisodeIdentity, ResolverClient } from '@strm/resolver-client';
import { ProxyError } from './errors';
import { entryFingerprint, type LinkLineage, type Relocation, type Relocator } from './playlist-links';
import { resolveEpisode } from './resolve-episode';
import type { UpstreamAttempt, UpstreamTarget } from './upstream-retry';

/**
 * Statuses that mean "this upstream URL went stale": find a fresh one and try once more
 * (docs/contract.md, "Refresh").
 */
const STALE_STATUSES: ReadonlySet<number> = new Set([401, 403, 404, 410, 429, 451]);

/**
 * Where a fresh URL comes from when the current one went stale:
 * - `entry`: the episode of an entry URL is re-resolved;
 * - `link`: a playlist link is relocated through its lineage (none: it cannot be refreshed).
 */
export type FreshTargetSource = (
  | {
      kind: 'entry';
      episode: EpisodeIdentity;
      /**
       * The URL the resolver handed out, when the one asked differs from it (Delivery Directives
       * added): the resolver is told that one is stale, or it would take its cached URL for one
       * already refreshed and hand it out again.
       */
      resolvedUrl?: string;
    }
  | { kind: 'link'; lineage: LinkLineage | undefined }
) & {
  /**
   * Maps the fresh URL to the one to fetch: a sealed DASH directory's request below the fresh
   * directory, a steering request's query, a playlist request's Delivery Directives.
   */
  reanchor?: (fresh: UpstreamTarget) => UpstreamTarget | undefined;
};

/** What finding a fresh target needs. */
export interface RefreshDeps {
  resolver: ResolverClient;
  relocator: Relocator;
}

/**
 * Whether an attempt says its URL went stale: a stale status, a connection error or a time-out.
 * A refused address is not stale: the next URL would be refused alike.
 */
export function isStaleAttempt(attempt: UpstreamAttempt): boolean {
  if ('error' in attempt) return attempt.error.kind !== 'refused';
  return STALE_STATUSES.has(attempt.upstream.status);
}

/**
 * A fresh target for a stale one, or undefined when there is none to try. The resolver's own
 * failures are answers (404, 502); a link that cannot be relocated keeps the stale answer.
 * `reResolved` says whether the episode was resolved again to find it (always, for an entry).
 */
export async function findFreshTarget(source: FreshTargetSource, stale: UpstreamTarget, deps: RefreshDeps): Promise<Relocation | undefined> {
  if (source.kind === 'entry') {
    const stored = await resolveEpisode(deps.resolver, source.episode, { refresh: true, staleUrl: source.resolvedUrl ?? stale.url });
    const fresh = { url: stored.resolution.url, headers: stored.resolution.headers };
    const target = source.reanchor === undefined ? fresh : source.reanchor(fresh);
    return target === undefined ? undefined : { target, reResolved: true, generation: entryFingerprint(stored.resolution.url) };
  }
  const { lineage } = source;
  if (lineage === undefined || lineage.route.length === 0) return undefined;
  try {
    return await deps.relocator.relocate(lineage, { staleUrl: stale.url, reanchor: source.reanchor });
  } catch (error) {
    if (error instanceof ProxyError) throw error;
    return undefined;
  }
}

/** A link's source whose playlist is known to have moved (`knownToHaveMoved`). */
export type MovedLinkSource = Extract<FreshTargetSource, { kind: 'link' }> & { lineage: LinkLineage };

/** Whether a link's playlist is known to have moved: checked at once, so that most requests await nothing for it. */
export function knownToHaveMoved(source: FreshTargetSource, deps: RefreshDeps): source is MovedLinkSource {
  return source.kind === 'link' && source.lineage !== undefined && source.lineage.route.length > 0 && deps.relocator.hasMoved(source.lineage);
}

/**
 * Where a link lives now, its playlist known to have moved (another of its links answered stale
 * and was relocated): asking its own, stale URL first would only cost a refused request.
 * Undefined when the walk fails (the link's URL is then asked as usual).
 */
export async function findMovedTarget(source: MovedLinkSource, deps: RefreshDeps): Promise<Relocation | undefined> {
  try {
    return await deps.relocator.relocate(source.lineage, { ahead: true, reanchor: source.reanchor });
  } catch {
    return undefined;
  }
}
