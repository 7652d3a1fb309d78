import { ResolverError } from './errors';
import { assertEpisodeIdentity, copyIdentity, identityFromKey, identityKey, type EpisodeIdentity } from './identity';
import { checkResolution, copyResolution, type ResolutionSource } from './resolution';
import { createMemoryStore, type ResolutionStore, type StoredResolution } from './store';
import { checkFunction, checkNonNegativeNumber } from './options';
import { describeIdentity } from './http-source';
import { FreshnessPolicy } from './freshness';
import { SafeStore } from './safe-store';
import { Flights, waitFor } from './single-flight';
import type { EpochMilliseconds } from './time';

/**
 * Options of {@link createResolverClient}.
 *
 * @example
 * ```ts
 * const options: ResolverClientOptions = {
 *   source: createHttpResolverSource({ baseUrl: 'http://resolver:9000' }),
 *   store: createMemoryStore({ maxEntries: 5000 }),
 *   cacheTtlSeconds: 3600,
 *   onEvent: (event) => metrics.count(`resolver_${event.type}`),
 * };
 * ```
 */
export interface ResolverClientOptions {
  /** Where resolutions come from (HTTP resolver, static file, your own). */
  source: ResolutionSource;
  /** Where they are cached. Default: {@link createMemoryStore} with its defaults (10000 entries). */
  store?: ResolutionStore;
  /** Longest time a resolution is served from the cache, in seconds; 0 (default) = no limit of its own. */
  cacheTtlSeconds?: number;
  /** A resolution with `expiresAt` is stale this many seconds before it. Default 30. */
  expiryMarginSeconds?: number;
  /** A refresh within this many ms of the last refresh of the same identity reuses its result. Default 5000. */
  minRefreshIntervalMs?: number;
  /** The clock. Default `Date.now`. */
  now?: () => EpochMilliseconds;
  /** Receives one {@link ResolverEvent} per outcome, for metrics and logs. Errors it throws are ignored. */
  onEvent?: (event: ResolverEvent) => void;
}

/**
 * Options of one {@link ResolverClient.resolve} call.
 *
 * @example
 * ```ts
 * // After the upstream answered 403 for the URL this request used:
 * const options: ResolveOptions = { refresh: true, staleUrl: failedUrl, signal: request.signal };
 * ```
 */
export interface ResolveOptions {
  /** Bypass the cache and ask the source with `refresh: true` (subject to the storm rules). */
  refresh?: boolean;
  /** With `refresh`: the URL that just failed. A cached URL that differs from it is returned as is. */
  staleUrl?: string;
  /** Stops this caller's wait; a call shared with other callers goes on. */
  signal?: AbortSignal;
}

/**
 * What {@link ResolverClientOptions.onEvent} receives. For each `resolve()` that returns, exactly
 * one of `cache-hit`, `refresh-reused`, `shared`, `resolve` or `refresh`; for each failed source
 * call, one `error` (shared by every caller that waited for it):
 * - `cache-hit`: served from the store.
 * - `refresh-reused`: a refresh answered without a source call, because the cached URL already
 *   differs from `staleUrl` (`reason: 'stale-url'`) or the last refresh is younger than
 *   `minRefreshIntervalMs` (`reason: 'min-interval'`).
 * - `shared`: the caller joined a source call that another caller started.
 * - `resolve` / `refresh`: the caller started a source call (without / with `refresh`), which
 *   succeeded after `durationMs`. Counting these counts the resolver calls.
 * - `error`: a source call failed after `durationMs`.
 * - `store-error`: the store failed; the client carried on without it.
 *
 * @example
 * ```ts
 * const client = createResolverClient({ source, onEvent: (event) => events.push(event.type) });
 * await client.resolve(identity);
 * await client.resolve(identity);
 * events; // ['resolve', 'cache-hit']
 * ```
 */
export type ResolverEvent =
  | { type: 'cache-hit'; key: string }
  | { type: 'refresh-reused'; key: string; reason: 'stale-url' | 'min-interval' }
  | { type: 'shared'; key: string; refresh: boolean }
  | { type: 'resolve'; key: string; durationMs: number }
  | { type: 'refresh'; key: string; durationMs: number }
  | { type: 'error'; key: string; refresh: boolean; durationMs: number; error: ResolverError }
  | { type: 'store-error'; key: string; operation: 'get' | 'set' | 'delete' | 'coordinate'; error: unknown };

/**
 * Resolves identities with a cache, single-flight and storm-safe refresh; see
 * {@link createResolverClient}.
 *
 * @example
 * ```ts
 * const { resolution, refreshed } = await client.resolve(identity, { refresh: true, staleUrl: failedUrl });
 * await client.invalidate(identity);
 * ```
 */
export interface ResolverClient {
  resolve(identity: EpisodeIdentity, options?: ResolveOptions): Promise<StoredResolution>;
  /** Drops the cached resolution of `identity` (not the record of its last refresh). */
  invalidate(identity: EpisodeIdentity): Promise<void>;
  /**
   * What the cache would serve now, newest resolution first; `undefined` when the store cannot
   * list its entries (it has no `entries` method). Read-only, for status pages.
   */
  listCached(): Promise<CachedResolution[] | undefined>;
}

/**
 * One entry of {@link ResolverClient.listCached}: the identity, what was stored for it, and until
 * when the client serves it (ms since the epoch; `undefined` = until a failure invalidates it).
 *
 * @example
 * ```ts
 * const entry: CachedResolution = {
 *   identity: { site: 'aniworld.to', slug: 'frieren', season: 1, episode: 3, language: 'German Dub' },
 *   stored: { resolution: { url: 'https://cdn.example/…', headers: {}, provider: 'VOE' }, resolvedAt: 1735732800000, refreshed: false },
 *   freshUntil: 1735736370000,
 * };
 * ```
 */
export interface CachedResolution {
  identity: EpisodeIdentity;
  stored: StoredResolution;
  freshUntil: EpochMilliseconds | undefined;
}

type Outcome =
  | { kind: 'cache-hit'; stored: StoredResolution }
  | { kind: 'reused'; reason: 'stale-url' | 'min-interval'; stored: StoredResolution }
  | { kind: 'called'; stored: StoredResolution };

/** Where the result of the last refresh of an identity is kept, for `minRefreshIntervalMs`. */
function refreshRecordKey(key: string): string {
  return `refresh:${key}`;
}

function copyStored(stored: StoredResolution): StoredResolution {
  return { resolution: copyResolution(stored.resolution), resolvedAt: stored.resolvedAt, refreshed: stored.refreshed };
}

/**
 * A {@link ResolverClient} over a source and a store.
 *
 * - Cache: a resolution is served from the store until `expiresAt - expiryMarginSeconds` or
 *   `resolvedAt + cacheTtlSeconds`, whichever comes first; with neither, until invalidated
 *   (or evicted by the store's size bound).
 * - Single-flight: every operation for one identity runs at most once at a time; concurrent
 *   callers share it (50 concurrent lookups make one source call, so do 100 concurrent refreshes).
 *   A failure is not cached: the next call tries again.
 * - Refresh (`{ refresh: true }`) skips the cache and calls the source with `refresh: true`,
 *   except when (1) `staleUrl` is given and the fresh cached URL already differs from it: that
 *   entry is returned, someone else refreshed already; or (2) the last refresh of this identity is
 *   younger than `minRefreshIntervalMs`: its result is returned. A burst of failures therefore
 *   makes one resolver call. Invalidating does not reset rule 2.
 * - A caller's `signal` ends only that caller's wait; the shared call completes and fills the
 *   cache for the next request (it is bounded by the source's own timeout).
 *
 * @example
 * ```ts
 * const client = createResolverClient({ source: createHttpResolverSource({ baseUrl: 'http://resolver:9000' }) });
 * const identity = { site: 'aniworld.to', slug: 'frieren', season: 1, episode: 3, language: 'German Dub' };
 * await client.resolve(identity);
 * // { resolution: { url: 'https://cdn.example/…', headers: { Referer: '…' }, provider: 'VOE', expiresAt: 1735732800000 },
 * //   resolvedAt: 1735729200000, refreshed: false }
 * ```
 */
export function createResolverClient(options: ResolverClientOptions): ResolverClient {
  const resolver = new CachingResolver(checkClientOptions(options));
  return {
    resolve: (identity, resolveOptions) => resolver.resolve(identity, resolveOptions),
    invalidate: (identity) => resolver.invalidate(identity),
    listCached: () => resolver.listCached(),
  };
}

/** The client's options, validated once, with their defaults. */
interface ClientSettings {
  source: ResolutionSource;
  store: ResolutionStore;
  freshness: FreshnessPolicy;
  onEvent: ((event: ResolverEvent) => void) | undefined;
}

function checkClientOptions(options: ResolverClientOptions): ClientSettings {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`options must be an object; received ${options === null ? 'null' : typeof options}`);
  }
  const { source } = options;
  if (typeof source !== 'object' || source === null || typeof source.resolve !== 'function') {
    throw new TypeError('options.source must be an object with a resolve(identity, options) method');
  }
  const store = options.store ?? createMemoryStore();
  if (typeof store !== 'object' || store === null || ['get', 'set', 'delete'].some((m) => typeof (store as unknown as Record<string, unknown>)[m] !== 'function')) {
    throw new TypeError('options.store must be an object with get, set and delete methods');
  }
  if (store.coordinate !== undefined && typeof store.coordinate !== 'function') {
    throw new TypeError(`options.store.coordinate must be a function when present; received a value of type ${typeof store.coordinate}`);
  }
  const freshness = new FreshnessPolicy({
    ttlMs: checkNonNegativeNumber(options.cacheTtlSeconds, 'options.cacheTtlSeconds', 0) * 1000,
    marginMs: checkNonNegativeNumber(options.expiryMarginSeconds, 'options.expiryMarginSeconds', 30) * 1000,
    minRefreshIntervalMs: checkNonNegativeNumber(options.minRefreshIntervalMs, 'options.minRefreshIntervalMs', 5000),
    now: checkFunction(options.now, 'options.now') ?? Date.now,
  });
  return { source, store, freshness, onEvent: checkFunction(options.onEvent, 'options.onEvent') };
}

function checkResolveOptions(resolveOptions: ResolveOptions): void {
  if (typeof resolveOptions !== 'object' || resolveOptions === null) {
    throw new TypeError(`options must be an object; received ${resolveOptions === null ? 'null' : typeof resolveOptions}`);
  }
  const { refresh, staleUrl, signal } = resolveOptions;
  if (refresh !== undefined && typeof refresh !== 'boolean') throw new TypeError(`options.refresh must be a boolean; received ${typeof refresh}`);
  if (staleUrl !== undefined && typeof staleUrl !== 'string') throw new TypeError(`options.staleUrl must be a string; received ${typeof staleUrl}`);
  if (signal !== undefined && !(signal instanceof AbortSignal)) throw new TypeError('options.signal must be an AbortSignal');
}

/**
 * The client's work: single-flight per identity ({@link Flights}), the cache and its freshness
 * ({@link FreshnessPolicy}) in a store whose failures never stop resolving ({@link SafeStore}),
 * and the source calls.
 */
class CachingResolver {
  readonly #source: ResolutionSource;
  readonly #rawStore: ResolutionStore;
  readonly #store: SafeStore;
  readonly #freshness: FreshnessPolicy;
  readonly #onEvent: ((event: ResolverEvent) => void) | undefined;
  readonly #flights = new Flights<Outcome>();

  constructor(settings: ClientSettings) {
    this.#source = settings.source;
    this.#rawStore = settings.store;
    this.#freshness = settings.freshness;
    this.#onEvent = settings.onEvent;
    this.#store = new SafeStore(settings.store, (failure) => this.#emit({ type: 'store-error', ...failure }));
  }

  async resolve(identity: EpisodeIdentity, resolveOptions: ResolveOptions = {}): Promise<StoredResolution> {
    const key = identityKey(identity);
    checkResolveOptions(resolveOptions);
    const { refresh: wantsRefresh = false, staleUrl, signal } = resolveOptions;
    signal?.throwIfAborted();
    for (;;) {
      const current = this.#flights.get(key);
      if (current !== undefined && wantsRefresh && !current.refresh) {
        // A lookup is running: its result may make this refresh unnecessary (rule 1); decide after it.
        await waitFor(current.promise.catch(() => undefined), signal);
        continue;
      }
      const flight = current ?? this.#flights.start(key, wantsRefresh, () => this.#runFlight(key, identity, wantsRefresh, staleUrl));
      const outcome = await waitFor(flight.promise, signal);
      if (wantsRefresh && outcome.kind === 'reused' && outcome.reason === 'stale-url' && outcome.stored.resolution.url === staleUrl) {
        // Joined a refresh that was answered for another stale URL, with the one this caller saw fail.
        continue;
      }
      if (outcome.kind === 'cache-hit') this.#emit({ type: 'cache-hit', key });
      else if (outcome.kind === 'reused') this.#emit({ type: 'refresh-reused', key, reason: outcome.reason });
      else if (current !== undefined) this.#emit({ type: 'shared', key, refresh: current.refresh });
      return copyStored(outcome.stored);
    }
  }

  async invalidate(identity: EpisodeIdentity): Promise<void> {
    assertEpisodeIdentity(identity);
    await this.#rawStore.delete(identityKey(identity));
  }

  /** Entries the client would serve now; refresh records and foreign keys are left out. */
  async listCached(): Promise<CachedResolution[] | undefined> {
    const store = this.#rawStore;
    if (typeof store.entries !== 'function') return undefined;
    const listed: CachedResolution[] = [];
    const at = this.#freshness.now();
    for (const [key, stored] of await store.entries()) {
      const identity = identityFromKey(key);
      if (identity === undefined) continue;
      const until = this.#freshness.freshUntil(stored);
      if (at >= until) continue;
      listed.push({ identity, stored: copyStored(stored), freshUntil: until === Infinity ? undefined : until });
    }
    return listed.sort((a, b) => b.stored.resolvedAt - a.stored.resolvedAt);
  }

  #emit(event: ResolverEvent): void {
    try {
      this.#onEvent?.(event);
    } catch {
      // A metrics hook must not decide whether an episode plays.
    }
  }

  /**
   * One flight: answered without a source call when it can be, else (under the store's
   * coordination, after deciding again: another process may have resolved meanwhile) a call.
   */
  async #runFlight(key: string, identity: EpisodeIdentity, isRefresh: boolean, staleUrl: string | undefined): Promise<Outcome> {
    const early = await this.#answerWithoutCall(key, isRefresh, staleUrl);
    if (early !== undefined) return early;
    if (!this.#store.coordinates) return this.#callAndKeep(key, identity, isRefresh);
    return this.#store.coordinated(key, async () => (await this.#answerWithoutCall(key, isRefresh, staleUrl)) ?? this.#callAndKeep(key, identity, isRefresh));
  }

  /**
   * The answer that needs no source call, if there is one: a fresh cached entry for a lookup; for
   * a refresh, rule 1 (the cached URL already differs from `staleUrl`) or rule 2 (the last
   * refresh is younger than `minRefreshIntervalMs`).
   */
  async #answerWithoutCall(key: string, isRefresh: boolean, staleUrl: string | undefined): Promise<Outcome | undefined> {
    const freshness = this.#freshness;
    if (!isRefresh) {
      const cached = await this.#store.get(key);
      if (cached !== undefined && freshness.isFresh(cached)) return { kind: 'cache-hit', stored: cached };
      return undefined;
    }
    if (staleUrl !== undefined) {
      const cached = await this.#store.get(key);
      if (cached !== undefined && freshness.isFresh(cached) && cached.resolution.url !== staleUrl) {
        return { kind: 'reused', reason: 'stale-url', stored: cached };
      }
    }
    if (freshness.minRefreshIntervalMs > 0) {
      const last = await this.#store.get(refreshRecordKey(key));
      if (last !== undefined && freshness.isRecentRefresh(last)) return { kind: 'reused', reason: 'min-interval', stored: last };
    }
    return undefined;
  }

  async #callAndKeep(key: string, identity: EpisodeIdentity, isRefresh: boolean): Promise<Outcome> {
    const stored = await this.#callSource(identity, key, isRefresh);
    await this.#keep(key, stored);
    const { minRefreshIntervalMs } = this.#freshness;
    if (isRefresh && minRefreshIntervalMs > 0) await this.#store.set(refreshRecordKey(key), stored, minRefreshIntervalMs);
    return { kind: 'called', stored };
  }

  /** Caches a fresh result for as long as it stays fresh; drops the old entry if it is born stale. */
  async #keep(key: string, stored: StoredResolution): Promise<void> {
    const keepFor = this.#freshness.keepFor(stored);
    if (keepFor === 'forever') await this.#store.set(key, stored, undefined);
    else if (keepFor === 'stale') await this.#store.delete(key);
    else await this.#store.set(key, stored, keepFor);
  }

  async #callSource(identity: EpisodeIdentity, key: string, refresh: boolean): Promise<StoredResolution> {
    const now = () => this.#freshness.now();
    const started = now();
    let failure: ResolverError;
    try {
      const checked = checkResolution(await this.#source.resolve(copyIdentity(identity), { refresh }));
      if ('resolution' in checked) {
        const stored: StoredResolution = { resolution: checked.resolution, resolvedAt: now(), refreshed: refresh };
        this.#emit({ type: refresh ? 'refresh' : 'resolve', key, durationMs: stored.resolvedAt - started });
        return stored;
      }
      const field = checked.field === '' ? 'the resolution' : `"${checked.field}"`;
      failure = new ResolverError('STRM_RESOLVER_BAD_RESPONSE', `source answered ${describeIdentity(identity)} with an invalid resolution: ${field} ${checked.expected}; received ${checked.received}`);
    } catch (error) {
      failure = error instanceof ResolverError
        ? error
        : new ResolverError('STRM_RESOLVER_UNAVAILABLE', `source failed to resolve ${describeIdentity(identity)}`, { cause: error });
    }
    this.#emit({ type: 'error', key, refresh, durationMs: now() - started, error: failure });
    throw failure;
  }
}
