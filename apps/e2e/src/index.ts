export { bigFileBytes, hashBigFile, startFakeCdn } from './fake-cdn';
export type { CdnFaultName, CdnFaults, CdnRequestLog, FakeCdn, FakeCdnOptions } from './fake-cdn';
export { demoCatalog, startFakeResolver, staticResolverFile } from './fake-resolver';
export type {
  CatalogEntry,
  EpisodeIdentity,
  FakeResolver,
  FakeResolverOptions,
  ResolverBehavior,
  ResolverHits,
  ResolverRequestLog,
  StaticResolverEntry,
} from './fake-resolver';
export { fixtureMediaDir, mediaFixtures } from './fixtures';
export type { MediaFixture, MediaFixtureName } from './fixtures';
export { startStaticStreamRelay } from './media-server-relay';
export type { RelayRequestLog, StaticStreamRelay } from './media-server-relay';
