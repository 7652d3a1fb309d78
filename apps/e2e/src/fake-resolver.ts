import { once } from 'node:events';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { CdnFaults, FakeCdn } from './fake-cdn';

/**
 * What names an episode (docs/contract.md, "Resolver"), the same shape as `@strm/resolver-client`'s identity.
 *
 * @example
 * ```ts
 * const identity: EpisodeIdentity = { site: 'aniworld.to', slug: 'strm-demo', season: 1, episode: 1, language: 'German Dub' };
 * ```
 */
export interface EpisodeIdentity {
  readonly site: string;
  readonly slug: string;
  readonly season: number;
  readonly episode: number;
  readonly language: string;
  readonly provider?: string;
}

/**
 * One episode the fake resolver knows: where it lives on the fake CDN and how that URL misbehaves.
 * An entry without `provider` answers requests for any provider.
 *
 * @example
 * ```ts
 * const entry: CatalogEntry = {
 *   site: 'aniworld.to', slug: 'strm-demo', season: 1, episode: 3, language: 'German Dub',
 *   path: 'hls-ts/master.m3u8', faults: { expireAfterMs: 60_000 }, bindToRequester: true,
 * };
 * ```
 */
export interface CatalogEntry extends EpisodeIdentity {
  /** Path on the fake CDN, relative to its media folder (or `big/<bytes>.bin`). */
  readonly path: string;
  readonly faults?: CdnFaults;
  /** Bind every issued URL to the remote address of the client that called `/resolve`. */
  readonly bindToRequester?: boolean;
  /** Request headers the CDN needs (answered as `headers`), e.g. a Referer for `requireReferer`. */
  readonly headers?: Readonly<Record<string, string>>;
  /** Answer `expiresAt` when `faults.expireAfterMs` is set (default true). */
  readonly announceExpiry?: boolean;
}

/**
 * How the resolver answers: normally, with a fixed status (e.g. 503), after a delay, or with a
 * body that is not JSON.
 *
 * @example
 * ```ts
 * resolver.setBehavior({ kind: 'status', status: 503 });
 * ```
 */
export type ResolverBehavior =
  | { readonly kind: 'normal' }
  | { readonly kind: 'status'; readonly status: number }
  | { readonly kind: 'slow'; readonly delayMs: number }
  | { readonly kind: 'invalid-json' };

/** One `/resolve` call the fake resolver received. */
export interface ResolverRequestLog {
  readonly time: number;
  readonly remoteAddress: string;
  /** The query as received. */
  readonly query: Readonly<Record<string, string>>;
  readonly identity: EpisodeIdentity | undefined;
  readonly refresh: boolean;
  status: number;
  /** The CDN URL handed out, when one was. */
  url: string | undefined;
}

/** Counted `/resolve` calls of one identity. */
export interface ResolverHits {
  readonly total: number;
  /** Calls with `refresh=1`. */
  readonly refresh: number;
  /** Calls without it. */
  readonly plain: number;
}

/** A running fake resolver. */
export interface FakeResolver {
  /** Base URL (`STRM_RESOLVER_URL`): `http://127.0.0.1:<port>`; the endpoint is `<url>/resolve`. */
  readonly url: string;
  readonly requests: readonly ResolverRequestLog[];
  /** Calls naming this identity (provider compared only when given). */
  hits(identity: EpisodeIdentity): ResolverHits;
  /** URLs handed out for this identity, oldest first (each a fresh CDN token). */
  issuedUrls(identity: EpisodeIdentity): string[];
  setBehavior(behavior: ResolverBehavior): void;
  /** Connections opened to the resolver that are still open. */
  openSockets(): number;
  /** Stops listening: from then on connections to `url` are refused. */
  close(): Promise<void>;
}

/** Options of {@link startFakeResolver}. */
export interface FakeResolverOptions {
  readonly cdn: FakeCdn;
  /** Default {@link demoCatalog}. */
  readonly catalog?: readonly CatalogEntry[];
  /** Default `127.0.0.1`. */
  readonly host?: string;
  readonly port?: number;
  /** Clock for `expiresAt` and the log. Default `Date.now`; give the CDN the same one. */
  readonly now?: () => number;
}

/**
 * The episodes of the demo, one per fixture: series `strm-demo` on `aniworld.to`, season 1,
 * episodes 1–5, `German Dub`. Episode 3 (HLS with keys, renditions and subtitles) needs a Referer,
 * which its `headers` supply.
 *
 * @example
 * ```ts
 * demoCatalog.map((e) => `${e.episode}: ${e.path}`);
 * // ['1: mp4-faststart/video.mp4', '2: mp4-moov-end/video.mp4', '3: hls-ts/master.m3u8',
 * //  '4: hls-fmp4/master.m3u8', '5: hls-byterange/index.m3u8']
 * ```
 */
export const demoCatalog: readonly CatalogEntry[] = Object.freeze(
  [
    { episode: 1, path: 'mp4-faststart/video.mp4' },
    { episode: 2, path: 'mp4-moov-end/video.mp4' },
    {
      episode: 3,
      path: 'hls-ts/master.m3u8',
      faults: { requireReferer: 'https://aniworld.to/' },
      headers: { Referer: 'https://aniworld.to/' },
    },
    { episode: 4, path: 'hls-fmp4/master.m3u8' },
    { episode: 5, path: 'hls-byterange/index.m3u8' },
  ].map((entry) => Object.freeze({ site: 'aniworld.to', slug: 'strm-demo', season: 1, language: 'German Dub', ...entry })),
);

/** One entry of `@strm/resolver-client`'s static resolver file. */
export interface StaticResolverEntry extends EpisodeIdentity {
  readonly url: string;
  readonly headers?: Readonly<Record<string, string>>;
}

/**
 * Faults that a URL written once into a static file survives forever. Expiry, address binding,
 * one-shot failures and slowness are left out: a static URL cannot rotate around them.
 */
const STATIC_FAULTS = ['requireReferer', 'playlistContentType', 'playlistPathSuffix', 'disguiseSegments', 'redirectToHost', 'ignoreRange', 'headStatus', 'bom'] as const;

/**
 * The static resolver file (`STRM_RESOLVER_FILE`) equivalent to a catalog: one fresh CDN URL per
 * entry, issued without the faults a static URL cannot survive (expiry, binding, failures, drops,
 * slowness). Write it with `JSON.stringify` for the demo.
 *
 * @example
 * ```ts
 * const file = staticResolverFile(cdn, demoCatalog);
 * file.entries[0];
 * // { site: 'aniworld.to', slug: 'strm-demo', season: 1, episode: 1, language: 'German Dub',
 * //   url: 'http://127.0.0.1:41234/t/…/mp4-faststart/video.mp4' }
 * ```
 */
export function staticResolverFile(cdn: FakeCdn, catalog: readonly CatalogEntry[] = demoCatalog): { entries: StaticResolverEntry[] } {
  return {
    entries: catalog.map((entry) => {
      const faults: Record<string, unknown> = {};
      for (const name of STATIC_FAULTS) if (entry.faults?.[name] !== undefined) faults[name] = entry.faults[name];
      const { site, slug, season, episode, language, provider, headers } = entry;
      return {
        site, slug, season, episode, language,
        ...(provider === undefined ? {} : { provider }),
        url: cdn.issue(entry.path, faults as CdnFaults),
        ...(headers === undefined ? {} : { headers: { ...headers } }),
      };
    }),
  };
}

/**
 * Starts the fake resolver (docs/contract.md, "Resolver"): `GET /resolve?site=&slug=&s=&e=&lang=[&provider=][&refresh=1]`
 * answers `{url, headers?, provider?, expiresAt?}` with a fresh CDN token on every call (URL
 * rotation), 404 for an unknown episode, 400 for a missing parameter. Calls are counted per
 * identity, with and without `refresh`.
 *
 * @example
 * ```ts
 * const resolver = await startFakeResolver({ cdn });
 * const res = await fetch(`${resolver.url}/resolve?site=aniworld.to&slug=strm-demo&s=1&e=1&lang=German%20Dub`);
 * await res.json(); // { url: 'http://127.0.0.1:41234/t/…/mp4-faststart/video.mp4' }
 * resolver.hits(demoCatalog[0]!); // { total: 1, refresh: 0, plain: 1 }
 * ```
 */
export async function startFakeResolver(options: FakeResolverOptions): Promise<FakeResolver> {
  if (typeof options?.cdn?.issue !== 'function') {
    throw new TypeError(`startFakeResolver: options.cdn must be a FakeCdn, received ${typeof options?.cdn}`);
  }
  const { cdn } = options;
  const catalog = options.catalog ?? demoCatalog;
  const now = options.now ?? Date.now;
  const requests: ResolverRequestLog[] = [];
  const sockets = new Set<Socket>();
  let behavior: ResolverBehavior = { kind: 'normal' };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { error: `fake resolver error: ${error instanceof Error ? error.message : String(error)}` });
      else res.destroy();
    });
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://resolver');
    if (url.pathname !== '/resolve') return sendJson(res, 404, { error: `no such endpoint ${url.pathname}` });
    const query = Object.fromEntries(url.searchParams);
    const identity = identityFromQuery(url.searchParams);
    const log: ResolverRequestLog = {
      time: now(),
      remoteAddress: (req.socket.remoteAddress ?? '').replace(/^::ffff:/i, ''),
      query,
      identity: typeof identity === 'string' ? undefined : identity,
      refresh: url.searchParams.get('refresh') === '1',
      status: 0,
      url: undefined,
    };
    requests.push(log);
    const current = behavior;
    if (current.kind === 'slow') {
      const closed = new Promise<'closed'>((resolveClosed) => res.once('close', () => resolveClosed('closed')));
      if ((await Promise.race([sleep(current.delayMs), closed])) === 'closed') return;
    }
    if (current.kind === 'status') {
      log.status = current.status;
      return sendJson(res, current.status, { error: 'resolver unavailable' });
    }
    if (current.kind === 'invalid-json') {
      log.status = 200;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"url": "http://');
      return;
    }
    if (typeof identity === 'string') {
      log.status = 400;
      return sendJson(res, 400, { error: identity });
    }
    const entry = catalog.find((candidate) => matches(candidate, identity));
    if (entry === undefined) {
      log.status = 404;
      return sendJson(res, 404, { error: 'episode not found' });
    }
    const faults: CdnFaults = entry.bindToRequester ? { ...entry.faults, bindToAddress: log.remoteAddress } : (entry.faults ?? {});
    const issuedAt = now();
    log.url = cdn.issue(entry.path, faults);
    log.status = 200;
    const expiresAt = entry.faults?.expireAfterMs !== undefined && entry.announceExpiry !== false
      ? new Date(issuedAt + entry.faults.expireAfterMs).toISOString()
      : undefined;
    sendJson(res, 200, {
      url: log.url,
      ...(entry.headers === undefined ? {} : { headers: entry.headers }),
      ...(entry.provider === undefined ? {} : { provider: entry.provider }),
      ...(expiresAt === undefined ? {} : { expiresAt }),
    });
  }

  server.listen(options.port ?? 0, options.host ?? '127.0.0.1');
  await once(server, 'listening');
  const { address, port } = server.address() as AddressInfo;
  const host = address.includes(':') ? `[${address}]` : address;

  const sameEpisode = (log: ResolverRequestLog, identity: EpisodeIdentity) =>
    log.identity !== undefined && matches(identity, log.identity) && (identity.provider === undefined || log.identity.provider === identity.provider);

  return {
    url: `http://${host}:${port}`,
    requests,
    hits(identity) {
      const calls = requests.filter((log) => sameEpisode(log, identity));
      const refresh = calls.filter((log) => log.refresh).length;
      return { total: calls.length, refresh, plain: calls.length - refresh };
    },
    issuedUrls(identity) {
      return requests.filter((log) => sameEpisode(log, identity) && log.url !== undefined).map((log) => log.url!);
    },
    setBehavior(next) {
      if (next.kind === 'status' && !(Number.isInteger(next.status) && next.status >= 100 && next.status <= 599)) {
        throw new TypeError(`FakeResolver.setBehavior: status must be an HTTP status, received ${String(next.status)}`);
      }
      if (next.kind === 'slow' && !(next.delayMs >= 0)) {
        throw new TypeError(`FakeResolver.setBehavior: delayMs must be >= 0, received ${String(next.delayMs)}`);
      }
      behavior = next;
    },
    openSockets: () => sockets.size,
    async close() {
      const closed = once(server, 'close');
      server.close();
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}

/** Same episode: site, slug, season, episode and language; a provider on both sides must agree. */
function matches(entry: EpisodeIdentity, identity: EpisodeIdentity): boolean {
  return (
    entry.site === identity.site &&
    entry.slug === identity.slug &&
    entry.season === identity.season &&
    entry.episode === identity.episode &&
    entry.language === identity.language &&
    (entry.provider === undefined || identity.provider === undefined || entry.provider === identity.provider)
  );
}

/** The identity named by a query, or a message naming the bad parameter. */
function identityFromQuery(params: URLSearchParams): EpisodeIdentity | string {
  const site = params.get('site') ?? 'aniworld.to';
  const slug = params.get('slug');
  const language = params.get('lang');
  const provider = params.get('provider') ?? undefined;
  if (!slug) return 'parameter slug is required';
  if (!language) return 'parameter lang is required';
  const numbers: Record<'s' | 'e', number> = { s: 0, e: 0 };
  for (const name of ['s', 'e'] as const) {
    const raw = params.get(name);
    if (raw === null || !/^\d{1,9}$/.test(raw)) return `parameter ${name} must be a non-negative integer, received ${JSON.stringify((raw ?? '').slice(0, 20))}`;
    numbers[name] = Number(raw);
  }
  return { site, slug, season: numbers.s, episode: numbers.e, language, ...(provider ? { provider } : {}) };
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': String(Buffer.byteLength(text)), 'cache-control': 'no-store' });
  res.end(text);
}
