import { LRUCache } from 'lru-cache';
import type { Resolution } from './resolution';
import { checkFunction, checkPositiveInteger } from './options';
import type { EpochMilliseconds } from './time';

/**
 * One cached resolution: what the source answered, when (`resolvedAt`, ms on the client's clock)
 * and whether it came from a refresh (`refresh=1`).
 *
 * @example
 * ```ts
 * const stored: StoredResolution = {
 *   resolution: { url: 'https://cdn.example/master.m3u8', headers: {} },
 *   resolvedAt: 1735732800000,
 *   refreshed: false,
 * };
 * ```
 */
export interface StoredResolution {
  resolution: Resolution;
  resolvedAt: EpochMilliseconds;
  refreshed: boolean;
}

/**
 * Where the client keeps resolutions. Keys are opaque strings chosen by the client; values are
 * plain JSON-serialisable objects. `set` receives how long the value is worth keeping
 * (`undefined` = until deleted or evicted); a store may drop a value earlier (size bound,
 * restart), never keep it visibly longer. Every method is async so that a shared store (Redis, for
 * several proxy replicas) can implement it. A store that fails throws; the client then carries on
 * without the cache and reports a `store-error` event.
 *
 * @example
 * ```ts
 * // A store on a Map, without size bound or expiry: enough for a test.
 * const map = new Map<string, StoredResolution>();
 * const store: ResolutionStore = {
 *   async get(key) { return map.get(key); },
 *   async set(key, value) { map.set(key, value); },
 *   async delete(key) { map.delete(key); },
 * };
 *
 * // A store shared by processes adds coordinate(), e.g. around a lock:
 * const shared: ResolutionStore = {
 *   ...store,
 *   async coordinate(key, run) {
 *     const release = await lock.acquire(key); // waits while another process holds it
 *     try { return await run(); } finally { await release(); }
 *   },
 * };
 * ```
 */
export interface ResolutionStore {
  get(key: string): Promise<StoredResolution | undefined>;
  set(key: string, value: StoredResolution, ttlMs: number | undefined): Promise<void>;
  delete(key: string): Promise<void>;
  /**
   * Optional, for stores shared by several processes: runs `run` (the part of an operation that
   * may call the source; it re-reads the store first) so that, for one `key`, at most one process
   * runs it at a time, and returns its result. Typically a lock with an expiry: the other
   * processes wait for the holder to finish, then run (and usually find the fresh entry without
   * calling). It must call `run` at most once; if it fails before calling it, the client calls
   * `run` itself and reports a `store-error` with `operation: 'coordinate'`.
   */
  coordinate?<T>(key: string, run: () => Promise<T>): Promise<T>;
  /**
   * Optional, read-only: the entries the store holds now that have not expired (copies), most
   * recently used first, as `[key, value]` pairs. The client never calls it to resolve; it backs
   * the client's `listCached()` (a status page). A store that cannot list cheaply (a shared
   * store with millions of keys) leaves it out.
   */
  entries?(): Promise<Array<[key: string, value: StoredResolution]>>;
}

/**
 * Options of {@link createMemoryStore}.
 *
 * @example
 * ```ts
 * const options: MemoryStoreOptions = { maxEntries: 5000 };
 * ```
 */
export interface MemoryStoreOptions {
  /** Most entries kept; the least recently used goes first. Default 10000. */
  maxEntries?: number;
  /** Clock for the `ttlMs` of `set` (ms). Default `performance.now`; tests inject one. */
  now?: () => number;
}

/**
 * The default {@link ResolutionStore}: in process memory, bounded by `maxEntries` (least recently
 * used first, on `lru-cache`), honouring the `ttlMs` of each `set`. Values are copied in and out,
 * so callers cannot change what it holds.
 *
 * @example
 * ```ts
 * const store = createMemoryStore({ maxEntries: 2 });
 * await store.set('a', stored, undefined);
 * await store.set('b', stored, 60_000);
 * await store.set('c', stored, undefined);
 * await store.get('a'); // undefined: evicted, the least recently used of three
 * ```
 */
export function createMemoryStore(options: MemoryStoreOptions = {}): ResolutionStore {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`options must be an object; received ${options === null ? 'null' : typeof options}`);
  }
  const max = checkPositiveInteger(options.maxEntries, 'options.maxEntries', 10_000);
  const now = checkFunction(options.now, 'options.now');
  const cache = new LRUCache<string, StoredResolution>({
    max,
    // lru-cache caches its clock reading for ttlResolution ms; 0 reads it on every check, which an
    // injected clock needs (and which costs little for a few thousand entries).
    ttlResolution: 0,
    ...(now === undefined ? {} : { perf: { now } }),
  });
  return {
    async get(key) {
      const value = cache.get(key);
      return value === undefined ? undefined : structuredClone(value);
    },
    async set(key, value, ttlMs) {
      if (ttlMs !== undefined && (typeof ttlMs !== 'number' || !Number.isFinite(ttlMs) || ttlMs <= 0)) {
        throw new TypeError(`ttlMs must be undefined or a positive finite number of milliseconds; received ${String(ttlMs)}`);
      }
      cache.set(key, structuredClone(value), ttlMs === undefined ? {} : { ttl: Math.ceil(ttlMs) });
    },
    async delete(key) {
      cache.delete(key);
    },
    async entries() {
      // lru-cache's entries() skips expired entries; copies keep the cache out of callers' reach.
      return [...cache.entries()].map(([key, value]): [string, StoredResolution] => [key, structuredClone(value)]);
    },
  };
}
