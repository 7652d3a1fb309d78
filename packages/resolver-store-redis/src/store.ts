import type { ResolutionStore, StoredResolution } from '@strm/resolver-client';
import { Redis, type RedisOptions } from 'ioredis';
import { decodeStored, encodeStored } from './codec';
import type { RedisStoreError } from './errors';
import { RedisHealth } from './health';
import { redisKeyNames } from './keys';
import { RedisLock } from './lock';
import { checkOptions, describeTarget } from './options';
import { WakeUps } from './wake-ups';

/**
 * Whether the store is using Redis right now. `connecting` until the first connection is ready,
 * `up` while Redis answers, `down` while it does not (the store then works from its local cache).
 *
 * @example
 * ```ts
 * const shared = store.state === 'up';
 * ```
 */
export type RedisStoreState = 'connecting' | 'up' | 'down';

/**
 * What `onStateChange` receives: once when Redis becomes usable (`up`), once when it stops being
 * usable (`down`, with the error that showed it), never once per request.
 *
 * @example
 * ```ts
 * const onStateChange = (change: RedisStoreStateChange) =>
 *   change.state === 'down' ? log.warn(change.error.message) : log.info('redis up');
 * ```
 */
export type RedisStoreStateChange = { state: 'up' } | { state: 'down'; error: RedisStoreError };

/**
 * The store operations that {@link RedisStoreOptions.onFallback} counts.
 *
 * @example
 * ```ts
 * const counts: Record<RedisStoreOperation, number> = { get: 0, set: 0, delete: 0, coordinate: 0 };
 * ```
 */
export type RedisStoreOperation = 'get' | 'set' | 'delete' | 'coordinate';

/**
 * Options of {@link createRedisStore}.
 *
 * @example
 * ```ts
 * const options: RedisStoreOptions = {
 *   url: 'redis://redis:6379/0',
 *   prefix: 'strm',
 *   onStateChange: (change) => logger.warn(change, 'redis state'),
 *   onFallback: (operation) => fallbacks.inc({ operation }),
 * };
 * ```
 */
export interface RedisStoreOptions {
  /** `redis://[[user]:password@]host[:port][/db]` or `rediss://…` (TLS). */
  url: string;
  /** First part of every key and channel (`<prefix>:v1:…`). Default `strm`. */
  prefix?: string;
  /** Longest wait for one Redis command, in ms; past it the store falls back. Default 500. */
  commandTimeoutMs?: number;
  /** Expiry of a single-flight lock, in ms; the holder renews it every third of it. Default 5000. */
  lockTtlMs?: number;
  /** How often a waiter checks the lock when no message came (lost message, dead holder). Default 250. */
  pollIntervalMs?: number;
  /** Longest wait for another replica's lock before resolving without it. Default 15000. */
  maxWaitMs?: number;
  /** How often a `down` store checks whether Redis answers again. Default 1000. */
  probeIntervalMs?: number;
  /** Size of the local cache used while Redis is down. Default 10000. */
  localMaxEntries?: number;
  /** Called on each change between `up` and `down` (not per request). Errors it throws are ignored. */
  onStateChange?: (change: RedisStoreStateChange) => void;
  /** Called for each operation served without Redis (local cache, or resolving without the lock). */
  onFallback?: (operation: RedisStoreOperation) => void;
}

/**
 * A `ResolutionStore` on Redis, with cross-replica single-flight (`coordinate`), its state, and
 * `close()`.
 *
 * @example
 * ```ts
 * const store: RedisResolutionStore = createRedisStore({ url: 'redis://redis:6379' });
 * store.state; // 'connecting', then 'up'
 * await store.close();
 * ```
 */
export interface RedisResolutionStore extends ResolutionStore {
  readonly state: RedisStoreState;
  coordinate<T>(key: string, run: () => Promise<T>): Promise<T>;
  /** Closes both connections at once; afterwards every operation works on the local cache only. */
  close(): Promise<void>;
}

/**
 * A resolution store on Redis, shared by every proxy replica that points at the same Redis:
 *
 * - Values are JSON under `<prefix>:v1:res:<key>`, expiring after the `ttlMs` the client passes
 *   (`SET … PX`), so entries expire in Redis by the same rules as in memory.
 * - `coordinate(key, run)` is a lock per key (`SET <prefix>:v1:lock:<key> <token> NX PX lockTtlMs`,
 *   renewed while `run` runs): one replica resolves, the others wait for its message on
 *   `<prefix>:v1:done:<key>` (or find the lock gone on a poll every `pollIntervalMs`) and then run,
 *   finding the fresh entry. A holder that dies stops renewing; its lock expires and a waiter
 *   takes over.
 * - Redis down or slow never fails an operation: every command has a `commandTimeoutMs` deadline;
 *   on a failure the store turns `down`, reports it once through `onStateChange`, and serves from
 *   a local in-memory cache (filled by every `set`) and resolves without the lock, until a probe
 *   every `probeIntervalMs` finds Redis answering again (`up`; the local cache is then cleared).
 *
 * It prints nothing and reads no environment.
 *
 * @example
 * ```ts
 * import { createResolverClient, createHttpResolverSource } from '@strm/resolver-client';
 * import { createRedisStore } from '@strm/resolver-store-redis';
 *
 * const store = createRedisStore({ url: 'redis://redis:6379', onStateChange: (c) => console.log('redis', c.state) });
 * const client = createResolverClient({ source: createHttpResolverSource({ baseUrl: 'http://resolver:9000' }), store });
 * // redis up
 * ```
 */
export function createRedisStore(options: RedisStoreOptions): RedisResolutionStore {
  const settings = checkOptions(options);
  const { commandTimeoutMs } = settings;
  const connection: RedisOptions = {
    lazyConnect: false,
    // Commands while disconnected fail at once instead of queueing behind a reconnect: the
    // local fallback is faster than any wait.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    // Our own deadline (timed) answers first; this one only makes ioredis drop the command too.
    commandTimeout: commandTimeoutMs * 2,
    connectTimeout: Math.max(1000, commandTimeoutMs * 4),
    retryStrategy: (attempt) => Math.min(attempt * 100, 2000),
  };
  const client = new Redis(settings.url, { ...connection, connectionName: 'strm-store' });
  // Pub/sub needs a connection of its own; it only carries "done" messages, polls cover its gaps.
  const subscriber = new Redis(settings.url, { ...connection, connectionName: 'strm-store-sub' });
  const names = redisKeyNames(settings.prefix);
  const wakeUps = new WakeUps();
  const health = new RedisHealth(settings, { client, target: describeTarget(settings.url), wakeUps });
  const lock = new RedisLock(settings, { names, client, subscriber, health, wakeUps });
  return storeApi({ client, subscriber, names, health, lock });
}

/** The `ResolutionStore` operations: Redis while it is `up`, the local cache otherwise. */
function storeApi(parts: { client: Redis; subscriber: Redis; names: ReturnType<typeof redisKeyNames>; health: RedisHealth; lock: RedisLock }): RedisResolutionStore {
  const { client, names, health } = parts;
  /** Runs a Redis command while Redis is up; false when it was not run or failed (then: fallback). */
  const onRedis = async (command: () => Promise<unknown>): Promise<boolean> => {
    if (health.state !== 'up') return false;
    try {
      await command();
      return true;
    } catch (error) {
      health.markDown(error);
      return false;
    }
  };
  return {
    get state() {
      return health.state;
    },
    async get(key) {
      let found: StoredResolution | undefined;
      const read = async () => {
        const text = await health.timed(client.get(names.value(key)), 'GET');
        found = text === null ? undefined : decodeStored(text);
      };
      if (await onRedis(read)) return found;
      health.fallback('get');
      return health.local.get(key);
    },
    async set(key: string, value: StoredResolution, ttlMs: number | undefined) {
      // Also kept locally (validating ttlMs), so that an outage starts from a warm cache.
      await health.local.set(key, value, ttlMs);
      const write = () => {
        const text = encodeStored(value);
        const name = names.value(key);
        return health.timed(ttlMs === undefined ? client.set(name, text) : client.set(name, text, 'PX', Math.ceil(ttlMs)), 'SET');
      };
      if (!(await onRedis(write))) health.fallback('set');
    },
    async delete(key) {
      await health.local.delete(key);
      if (!(await onRedis(() => health.timed(client.del(names.value(key)), 'DEL')))) health.fallback('delete');
    },
    async coordinate<T>(key: string, run: () => Promise<T>): Promise<T> {
      if (typeof key !== 'string' || typeof run !== 'function') throw new TypeError('coordinate(key, run) needs a string key and a function');
      return parts.lock.coordinate(key, run);
    },
    async close() {
      if (health.closed) return;
      health.close();
      client.disconnect();
      parts.subscriber.disconnect();
    },
  };
}
