import { ResolverError, type EpisodeIdentity, type ResolveOptions, type ResolverClient, type StoredResolution } from '@strm/resolver-client';
import { ProxyError } from './errors';

/**
 * Resolves an episode through the cache, mapping the resolver's failures to the proxy's answers:
 * an episode the resolver does not know is a 404, any other failure a 502.
 */
export async function resolveEpisode(resolver: ResolverClient, identity: EpisodeIdentity, options: ResolveOptions): Promise<StoredResolution> {
  try {
    return await resolver.resolve(identity, options);
  } catch (error) {
    if (error instanceof ResolverError && error.code === 'STRM_RESOLVER_NOT_FOUND') {
      throw new ProxyError('STRM_EPISODE_NOT_FOUND', 'the resolver does not know this episode', { cause: error });
    }
    const code = error instanceof ResolverError ? error.code : 'unknown';
    throw new ProxyError('STRM_RESOLVER_FAILED', `the resolver failed (${code})`, { cause: error });
  }
}
