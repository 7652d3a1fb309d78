import type { EpochMilliseconds, ResolverClient } from '@strm/resolver-client';
import type { TokenSealer } from '@strm/signing';
import type { ProxyConfig } from './config';
import type { TargetDurations } from './delivery-directives';
import type { ProxyMetrics } from './metrics';
import type { Relocator, RenditionLinks } from './playlist-links';
import type { SealTimes } from './seal-times';
import type { ProxyTokenPayload } from './tokens';
import type { UpstreamFetcher } from './upstream';

/** Everything a request handler needs, built once per proxy instance. */
export interface ProxyRuntime {
  config: ProxyConfig;
  /** The current secret first, then the previous ones: entry URLs signed by any of them verify. */
  secrets: readonly string[];
  tokens: TokenSealer<ProxyTokenPayload>;
  resolver: ResolverClient;
  upstream: UpstreamFetcher;
  relocator: Relocator;
  /** Target durations of the live playlists rewritten, for the upstream wait of blocking reloads. */
  targetDurations: TargetDurations;
  /** Links of multivariant playlists to their media playlists, repeated by rendition reports. */
  renditions: RenditionLinks;
  /** When the links of reloaded playlists were sealed: a live segment keeps its URI across expiry buckets. */
  sealTimes: SealTimes;
  metrics: ProxyMetrics;
  now: () => EpochMilliseconds;
}
