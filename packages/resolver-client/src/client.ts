import { ResolverError } from './errors';
import { assertEpisodeIdentity, copyIdentity, identityFromKey, identityKey, type EpisodeIdentity } from './identity';
import { checkResolution, copyResolution, type ResolutionSource } from './resolution';
import { createMemoryStore, type ResolutionStore, type StoredResolution } from './store';
import { checkFunction, checkNonNegativeNumber } from './options';
import { describeIdentity } from './http-source';
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
  freshUntil: number | undefined;
}

type Outcome =
  | { kind: 'cache-hit'; stored: StoredResolution }
  | { kind: 'reused'; reason: 'stale-url' | 'min-interval'; stored: StoredResolution }
  | { kind: 'called'; stored: StoredResolution };

/** One operation in progress for one identity: a lookup (and call) or a refresh. */
interface Flight {
  refresh: boolean;
  promise: Promise<Outcome>;
}

/** Where the result of the last refresh of an identity is kept, for `minRefreshIntervalMs`. */
function refreshRecordKey(key: string): string {
  return `refresh:${key}`;
}

function copyStored(stored: StoredResolution): StoredResolution {
  return { resolution: copyResolution(stored.resolution), resolvedAt: stored.resolvedAt, refreshed: stored.refreshed };
}

/** Settles with `promise`, or rejects with the signal's reason as soon as it aborts. */
function waitFor<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
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
  const ttlMs = checkNonNegativeNumber(options.cacheTtlSeconds, 'options.cacheTtlSeconds', 0) * 1000;
  const marginMs = checkNonNegativeNumber(options.expiryMarginSeconds, 'options.expiryMarginSeconds', 30) * 1000;
  const minRefreshIntervalMs = checkNonNegativeNumber(options.minRefreshIntervalMs, 'options.minRefreshIntervalMs', 5000);
  const now = checkFunction(options.now, 'options.now') ?? Date.now;
  const onEvent = checkFunction(options.onEvent, 'options.onEvent');

  const flights = new Map<string, Flight>();

  function emit(event: ResolverEvent): void {
    try {
      onEvent?.(event);
    } catch {
      // A metrics hook must not decide whether an episode plays.
    }
  }

  function freshUntil(stored: StoredResolution): number {
    const byTtl = ttlMs > 0 ? stored.resolvedAt + ttlMs : Infinity;
    const byExpiry = stored.resolution.expiresAt === undefined ? Infinity : stored.resolution.expiresAt - marginMs;
    return Math.min(byTtl, byExpiry);
  }

  // The store is a cache: when it fails, resolving goes on without it.
  async function storeGet(key: string): Promise<StoredResolution | undefined> {
    try {
      return await store.get(key);
    } catch (error) {
      emit({ type: 'store-error', key, operation: 'get', error });
      return undefined;
    }
  }

  async function storeSet(key: string, value: StoredResolution, ttl: number | undefined): Promise<void> {
    try {
      await store.set(key, value, ttl);
    } catch (error) {
      emit({ type: 'store-error', key, operation: 'set', error });
    }
  }

  async function storeDelete(key: string): Promise<void> {
    try {
      await store.delete(key);
    } catch (error) {
      emit({ type: 'store-error', key, operation: 'delete', error });
    }
  }

  /** Caches a fresh result for as long as it stays fresh; drops the old entry if it is born stale. */
  async function keep(key: string, stored: StoredResolution): Promise<void> {
    const remaining = freshUntil(stored) - now();
    if (remaining === Infinity) await storeSet(key, stored, undefined);
    else if (remaining > 0) await storeSet(key, stored, remaining);
    else await storeDelete(key);
  }

  async function callSource(identity: EpisodeIdentity, key: string, refresh: boolean): Promise<StoredResolution> {
    const started = now();
    let failure: ResolverError;
    try {
      const checked = checkResolution(await source.resolve(copyIdentity(identity), { refresh }));
      if ('resolution' in checked) {
        const stored: StoredResolution = { resolution: checked.resolution, resolvedAt: now(), refreshed: refresh };
        emit({ type: refresh ? 'refresh' : 'resolve', key, durationMs: stored.resolvedAt - started });
        return stored;
      }
      const field = checked.field === '' ? 'the resolution' : `"${checked.field}"`;
      failure = new ResolverError('STRM_RESOLVER_BAD_RESPONSE', `source answered ${describeIdentity(identity)} with an invalid resolution: ${field} ${checked.expected}; received ${checked.received}`);
    } catch (error) {
      failure = error instanceof ResolverError
        ? error
        : new ResolverError('STRM_RESOLVER_UNAVAILABLE', `source failed to resolve ${describeIdentity(identity)}`, { cause: error });
    }
    emit({ type: 'error', key, refresh, durationMs: now() - started, error: failure });
    throw failure;
  }

  /**
   * The answer that needs no source call, if there is one: a fresh cached entry for a lookup; for
   * a refresh, rule 1 (the cached URL already differs from `staleUrl`) or rule 2 (the last
   * refresh is younger than `minRefreshIntervalMs`).
   */
  async function answerWithoutCall(key: string, isRefresh: boolean, staleUrl: string | undefined): Promise<Outcome | undefined> {
    if (!isRefresh) {
      const cached = await storeGet(key);
      if (cached !== undefined && now() < freshUntil(cached)) return { kind: 'cache-hit', stored: cached };
      return undefined;
    }
    if (staleUrl !== undefined) {
      const cached = await storeGet(key);
      if (cached !== undefined && now() < freshUntil(cached) && cached.resolution.url !== staleUrl) {
        return { kind: 'reused', reason: 'stale-url', stored: cached };
      }
    }
    if (minRefreshIntervalMs > 0) {
      const last = await storeGet(refreshRecordKey(key));
      const age = last === undefined ? Infinity : now() - last.resolvedAt;
      if (last !== undefined && age >= 0 && age < minRefreshIntervalMs) return { kind: 'reused', reason: 'min-interval', stored: last };
    }
    return undefined;
  }

  async function callAndKeep(key: string, identity: EpisodeIdentity, isRefresh: boolean): Promise<Outcome> {
    const stored = await callSource(identity, key, isRefresh);
    await keep(key, stored);
    if (isRefresh && minRefreshIntervalMs > 0) await storeSet(refreshRecordKey(key), stored, minRefreshIntervalMs);
    return { kind: 'called', stored };
  }

  /**
   * Runs `run` under the store's cross-process coordination when it has one. Coordination is an
   * optimisation, never a condition: if the store fails to coordinate, `run` still runs (once).
   */
  async function coordinated(key: string, shared: Required<Pick<ResolutionStore, 'coordinate'>>, run: () => Promise<Outcome>): Promise<Outcome> {
    let ran: Promise<Outcome> | undefined;
    const runOnce = () => (ran ??= run());
    try {
      const outcome = await shared.coordinate(key, runOnce);
      return ran === undefined ? await runOnce() : outcome;
    } catch (error) {
      if (ran === undefined) emit({ type: 'store-error', key, operation: 'coordinate', error });
      // After `run` started, its own result (or error) is the answer, whatever the store threw.
      return await runOnce();
    }
  }

  async function runFlight(key: string, identity: EpisodeIdentity, isRefresh: boolean, staleUrl: string | undefined): Promise<Outcome> {
    const early = await answerWithoutCall(key, isRefresh, staleUrl);
    if (early !== undefined) return early;
    const { coordinate } = store;
    if (coordinate === undefined) return callAndKeep(key, identity, isRefresh);
    // Another process may have resolved while this one waited for its turn: decide again, then call.
    return coordinated(key, { coordinate: coordinate.bind(store) }, async () => (await answerWithoutCall(key, isRefresh, staleUrl)) ?? callAndKeep(key, identity, isRefresh));
  }

  /**
   * The one place where operations for an identity are started and shared within this process.
   * Across processes, `runFlight` asks the store to coordinate the part that may call the source.
   */
  function startFlight(key: string, identity: EpisodeIdentity, isRefresh: boolean, staleUrl: string | undefined): Flight {
    const flight: Flight = { refresh: isRefresh, promise: Promise.resolve(undefined as never) };
    flight.promise = (async () => {
      try {
        return await runFlight(key, identity, isRefresh, staleUrl);
      } finally {
        // Before the promise settles, so that nobody joins a finished (or failed) flight.
        if (flights.get(key) === flight) flights.delete(key);
      }
    })();
    flights.set(key, flight);
    return flight;
  }

  async function resolve(identity: EpisodeIdentity, resolveOptions: ResolveOptions = {}): Promise<StoredResolution> {
    const key = identityKey(identity);
    if (typeof resolveOptions !== 'object' || resolveOptions === null) {
      throw new TypeError(`options must be an object; received ${resolveOptions === null ? 'null' : typeof resolveOptions}`);
    }
    const { refresh: wantsRefresh = false, staleUrl, signal } = resolveOptions;
    if (typeof wantsRefresh !== 'boolean') throw new TypeError(`options.refresh must be a boolean; received ${typeof wantsRefresh}`);
    if (staleUrl !== undefined && typeof staleUrl !== 'string') throw new TypeError(`options.staleUrl must be a string; received ${typeof staleUrl}`);
    if (signal !== undefined && !(signal instanceof AbortSignal)) throw new TypeError('options.signal must be an AbortSignal');
    signal?.throwIfAborted();

    for (;;) {
      const current = flights.get(key);
      if (current !== undefined && wantsRefresh && !current.refresh) {
        // A lookup is running: its result may make this refresh unnecessary (rule 1); decide after it.
        await waitFor(current.promise.catch(() => undefined), signal);
        continue;
      }
      const flight = current ?? startFlight(key, identity, wantsRefresh, staleUrl);
      const outcome = await waitFor(flight.promise, signal);
      if (wantsRefresh && outcome.kind === 'reused' && outcome.reason === 'stale-url' && outcome.stored.resolution.url === staleUrl) {
        // Joined a refresh that was answered for another stale URL, with the one this caller saw fail.
        continue;
      }
      if (outcome.kind === 'cache-hit') emit({ type: 'cache-hit', key });
      else if (outcome.kind === 'reused') emit({ type: 'refresh-reused', key, reason: outcome.reason });
      else if (current !== undefined) emit({ type: 'shared', key, refresh: current.refresh });
      return copyStored(outcome.stored);
    }
  }

  /** Entries the client would serve now; refresh records and foreign keys are left out. */
  async function listCached(): Promise<CachedResolution[] | undefined> {
    if (typeof store.entries !== 'function') return undefined;
    const listed: CachedResolution[] = [];
    const at = now();
    for (const [key, stored] of await store.entries()) {
      const identity = identityFromKey(key);
      if (identity === undefined) continue;
      const until = freshUntil(stored);
      if (at >= until) continue;
      listed.push({ identity, stored: copyStored(stored), freshUntil: until === Infinity ? undefined : until });
    }
    return listed.sort((a, b) => b.stored.resolvedAt - a.stored.resolvedAt);
  }

  return {
    resolve,
    async invalidate(identity) {
      assertEpisodeIdentity(identity);
      await store.delete(identityKey(identity));
    },
    listCached,
  };
}
