import { lookup as dnsLookup } from 'node:dns/promises';
import { rm } from 'node:fs/promises';
import { createLogger, loadConfig, startProxy, type LookupFunction, type RunningProxy } from '@strm/proxy';
import { signedEntryUrl } from '@strm/signing';
import { startFakeCdn, type CdnRequestLog, type FakeCdn, type FakeCdnOptions } from '../../src/fake-cdn';
import { startFakeResolver, type CatalogEntry, type EpisodeIdentity, type FakeResolver } from '../../src/fake-resolver';
import { mediaDirWithLargeMp4s } from './media';
import { createProxyLog, logSink } from './proxy-log';

export const SECRET = 'e2e-secret-0123456789abcdef';

/** One JSON line of the proxy's log. */
export type LogLine = Record<string, unknown> & { msg?: string };

/** One `msg: 'request'` line of the proxy's log. */
export interface RequestLine {
  route: string;
  method: string;
  path: string;
  status: number;
  bytes: number;
  upstreamStatus?: number;
  upstreamHost?: string;
  refreshes?: number;
  resumes?: number;
  /** The link's playlist was known to have moved: asked at its relocated URL first. */
  relocatedAhead?: boolean;
  aborted?: boolean;
}

/** The fake CDN, the fake resolver and the real proxy, all on loopback, wired like an operator would. */
export interface Stack {
  readonly cdn: FakeCdn;
  readonly resolver: FakeResolver;
  readonly proxy: RunningProxy;
  readonly logs: readonly LogLine[];
  /** The proxy's request lines logged since `from` (an index into `logs`). */
  requestLines(from?: number): RequestLine[];
  /**
   * Resolves with the request lines since `from` once there are `count` of them. The proxy logs a
   * request when its response closes, which may be after the client has read the last byte.
   */
  requestLinesLogged(count: number, from: number, timeoutMs?: number): Promise<RequestLine[]>;
  /** The signed entry URL of an episode, as a `.strm` file holds it. */
  entryUrl(identity: EpisodeIdentity): string;
  close(): Promise<void>;
}

/** A catalog entry for episode `episode` of series `slug` (site aniworld.to, season 1, German Dub). */
export function episode(slug: string, episodeNumber: number, path: string, extra: Partial<CatalogEntry> = {}): CatalogEntry {
  return { site: 'aniworld.to', slug, season: 1, episode: episodeNumber, language: 'German Dub', path, ...extra };
}

/**
 * The host's own name resolution, IPv4 only: the fake CDN listens on 127.0.0.1, and a CI runner's
 * `localhost` may list `::1` first.
 */
export const ipv4Lookup: LookupFunction = async (hostname) => dnsLookup(hostname, { all: true, family: 4 });

export async function startStack(options: {
  catalog: readonly CatalogEntry[];
  /** Extra proxy environment (the allowlist is `127.0.0.1,localhost` unless given). */
  env?: Record<string, string>;
  /** Folder the CDN serves; default the committed fixtures. */
  mediaDir?: string;
  /** The CDN's live origins (`live/`, `ll/`), see `FakeCdnOptions.live`. */
  live?: FakeCdnOptions['live'];
}): Promise<Stack> {
  const cdn = await startFakeCdn({ host: '127.0.0.1', ...(options.mediaDir ? { mediaDir: options.mediaDir } : {}), ...(options.live ? { live: options.live } : {}) });
  const resolver = await startFakeResolver({ cdn, catalog: options.catalog });
  const log = createProxyLog();
  const sink = logSink(log);
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    STRM_PROXY_SECRET: SECRET,
    STRM_RESOLVER_URL: resolver.url,
    STRM_PROXY_UPSTREAM_ALLOWLIST: '127.0.0.1,localhost',
    STRM_PROXY_UPSTREAM_TIMEOUT_MS: '5000',
    LOG_LEVEL: 'info',
    ...options.env,
  });
  const proxy = await startProxy(config, { logger: createLogger(config.logLevel, sink), lookup: ipv4Lookup });
  return {
    cdn,
    resolver,
    proxy,
    logs: log.logs,
    requestLines: log.requestLines,
    requestLinesLogged: (count, from, timeoutMs = 10_000) => log.requestLinesLogged(count, from, timeoutMs),
    entryUrl: (identity) =>
      signedEntryUrl(
        `${proxy.url}/strm/stream`,
        { site: identity.site, slug: identity.slug, s: identity.season, e: identity.episode, lang: identity.language },
        SECRET,
      ),
    async close() {
      await proxy.close(1000);
      await resolver.close();
      await cdn.close();
    },
  };
}

/**
 * A stack whose CDN serves {@link mediaDirWithLargeMp4s} (the fixtures plus 8-second MP4s
 * encoded here); its `close` also removes that folder, and so does a failed start. The player
 * suites share it so that each sets up and tears down the same way.
 */
export async function startStackWithLargeMp4s(catalog: readonly CatalogEntry[]): Promise<Stack> {
  const mediaDir = await mediaDirWithLargeMp4s();
  const removeMedia = () => rm(mediaDir, { recursive: true, force: true });
  let stack: Stack;
  try {
    stack = await startStack({ catalog, mediaDir });
  } catch (error) {
    await removeMedia();
    throw error;
  }
  return {
    ...stack,
    async close() {
      await stack.close();
      await removeMedia();
    },
  };
}

/** Requests the proxy made to the CDN for an episode: those under the tokens the resolver issued for it. */
export function cdnRequestsOf(stack: Stack, identity: EpisodeIdentity) {
  const tokens = new Set(stack.resolver.issuedUrls(identity).map((url) => /\/t\/([^/]+)\//.exec(url)?.[1]));
  return stack.cdn.requests.filter((request) => tokens.has(request.token));
}

/** Requests the CDN received under the token of one issued URL. */
/**
 * The resources the CDN failed (4xx/5xx), each once, sorted: what a playback through the proxy
 * must have in common with the same playback from the CDN directly. ffmpeg 5.1 asks for one
 * segment past the end of a static DASH template (a 404, directly too); nothing else may fail.
 */
export function failedResources(requests: readonly CdnRequestLog[]): string[] {
  return [...new Set(requests.filter((request) => request.status >= 400).map((request) => `${request.status} ${request.resource}`))].sort();
}

export function cdnRequestsUnder(stack: Stack, issuedUrl: string) {
  const token = /\/t\/([^/]+)\//.exec(issuedUrl)?.[1];
  return stack.cdn.requests.filter((request) => request.token === token);
}
