import { randomUUID } from 'node:crypto';
import { createMemoryStore, type ResolutionStore, type StoredResolution } from '@strm/resolver-client';
import { Redis, type RedisOptions } from 'ioredis';
import { decodeStored, encodeStored } from './codec';
import { RedisStoreError } from './errors';
import { redisKeyNames } from './keys';
import { checkOptions, describeTarget } from './options';

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

// Deletes the lock only if this holder still owns it, then tells the waiters.
const RELEASE_SCRIPT = `if redis.call('get', KEYS[1]) == ARGV[1] then
  redis.call('del', KEYS[1])
  redis.call('publish', ARGV[2], '1')
  return 1
end
return 0`;

// Extends the lock only if this holder still owns it.
const RENEW_SCRIPT = `if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('pexpire', KEYS[1], ARGV[2])
end
return 0`;

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
  const { commandTimeoutMs, lockTtlMs, pollIntervalMs, maxWaitMs, probeIntervalMs } = settings;
  const names = redisKeyNames(settings.prefix);
  const target = describeTarget(settings.url);
  const newLocalCache = () => createMemoryStore({ maxEntries: settings.localMaxEntries });
  let local = newLocalCache();

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

  let state: RedisStoreState = 'connecting';
  let closed = false;
  let lastConnectionError: unknown;
  let probeTimer: NodeJS.Timeout | undefined;
  let probing = false;
  /** Wake-up functions of waiting `coordinate` calls, by channel. */
  const wakers = new Map<string, Set<() => void>>();
  const subscriptions = new Map<string, number>();

  function report(change: RedisStoreStateChange): void {
    try {
      settings.onStateChange?.(change);
    } catch {
      // A logging hook must not decide whether an episode plays.
    }
  }

  function fallback(operation: RedisStoreOperation): void {
    try {
      settings.onFallback?.(operation);
    } catch {
      // Same as above: metrics never break resolving.
    }
  }

  function wakeAll(): void {
    for (const set of wakers.values()) for (const wake of [...set]) wake();
  }

  function markDown(error: unknown): void {
    if (closed || state === 'down') return;
    state = 'down';
    report({ state: 'down', error: toStoreError(error, 'command') });
    // Waiters stop waiting for a lock nobody can see any more and resolve on their own.
    wakeAll();
    probeTimer ??= setInterval(() => void probe(), probeIntervalMs);
    probeTimer.unref();
  }

  function markUp(): void {
    if (closed || state === 'up') return;
    state = 'up';
    if (probeTimer !== undefined) clearInterval(probeTimer);
    probeTimer = undefined;
    // What was cached locally during the outage was never shared; Redis is the truth again.
    local = newLocalCache();
    report({ state: 'up' });
  }

  async function probe(): Promise<void> {
    if (probing || closed || client.status !== 'ready') return;
    probing = true;
    try {
      await timed(client.ping(), 'PING');
      markUp();
    } catch (error) {
      markDown(error);
    } finally {
      probing = false;
    }
  }

  function toStoreError(error: unknown, operation: string): RedisStoreError {
    if (error instanceof RedisStoreError) return error;
    const detail = error instanceof Error ? error.message : String(error);
    return new RedisStoreError('STRM_REDIS_UNAVAILABLE', `Redis at ${target} failed ${operation}: ${detail.slice(0, 200)}`, { cause: error });
  }

  /** One command with the store's deadline; failures become a {@link RedisStoreError}. */
  function timed<T>(command: Promise<T>, operation: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new RedisStoreError('STRM_REDIS_TIMEOUT', `Redis at ${target} did not answer ${operation} within ${commandTimeoutMs} ms`));
      }, commandTimeoutMs);
      command.then(
        (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        (error: unknown) => {
          clearTimeout(timer);
          reject(toStoreError(error, operation));
        },
      );
    });
  }

  client.on('error', (error: unknown) => {
    lastConnectionError = error;
  });
  client.on('ready', () => void probe());
  client.on('close', () => {
    const detail = lastConnectionError instanceof Error ? `: ${lastConnectionError.message.slice(0, 200)}` : '';
    markDown(new RedisStoreError('STRM_REDIS_UNAVAILABLE', `connection to Redis at ${target} lost${detail}`, { cause: lastConnectionError }));
  });
  subscriber.on('error', () => {
    // Reconnects on its own (and resubscribes); waiters poll meanwhile.
  });
  subscriber.on('message', (channel: string) => {
    const set = wakers.get(channel);
    if (set !== undefined) for (const wake of [...set]) wake();
  });

  /**
   * A wake-up on a message on `channel`, after `ms`, or when the store goes down or closes.
   * Armed before the lock is tried, so that a release announced while the attempt is on its way
   * is not missed (the message and the attempt's reply come on two connections, in any order).
   */
  function armWakeUp(channel: string, ms: number): { woken: Promise<void>; disarm(): void } {
    let set = wakers.get(channel);
    if (set === undefined) {
      set = new Set();
      wakers.set(channel, set);
    }
    const own = set;
    let wake!: () => void;
    const woken = new Promise<void>((resolve) => {
      wake = () => {
        clearTimeout(timer);
        own.delete(wake);
        if (own.size === 0 && wakers.get(channel) === own) wakers.delete(channel);
        resolve();
      };
    });
    const timer = setTimeout(wake, ms);
    own.add(wake);
    return { woken, disarm: wake };
  }

  async function subscribe(channel: string): Promise<void> {
    const count = subscriptions.get(channel) ?? 0;
    subscriptions.set(channel, count + 1);
    if (count === 0) await timed(subscriber.subscribe(channel), 'SUBSCRIBE').catch(() => undefined);
  }

  function unsubscribe(channel: string): void {
    const count = (subscriptions.get(channel) ?? 1) - 1;
    if (count > 0) {
      subscriptions.set(channel, count);
      return;
    }
    subscriptions.delete(channel);
    subscriber.unsubscribe(channel).catch(() => undefined);
  }

  async function acquire(lockKey: string, token: string): Promise<boolean> {
    return (await timed(client.set(lockKey, token, 'PX', lockTtlMs, 'NX'), 'SET NX')) === 'OK';
  }

  /** Waits for the lock until it is acquired, Redis goes down, or `maxWaitMs` passes. */
  async function waitForLock(key: string, token: string): Promise<'acquired' | 'unavailable'> {
    const lockKey = names.lock(key);
    const channel = names.channel(key);
    const deadline = performance.now() + maxWaitMs;
    await subscribe(channel);
    try {
      for (;;) {
        if (state !== 'up' || closed) return 'unavailable';
        const left = deadline - performance.now();
        if (left <= 0) return 'unavailable';
        const wakeUp = armWakeUp(channel, Math.min(pollIntervalMs, left));
        // Tried again once subscribed: a release published before the subscription is not missed.
        let acquired: boolean;
        try {
          acquired = await acquire(lockKey, token);
        } catch (error) {
          wakeUp.disarm();
          throw error;
        }
        if (acquired) {
          wakeUp.disarm();
          return 'acquired';
        }
        await wakeUp.woken;
      }
    } catch (error) {
      markDown(error);
      return 'unavailable';
    } finally {
      unsubscribe(channel);
    }
  }

  async function holdWhile<T>(key: string, token: string, run: () => Promise<T>): Promise<T> {
    const lockKey = names.lock(key);
    const renewal = setInterval(() => {
      timed(client.eval(RENEW_SCRIPT, 1, lockKey, token, String(lockTtlMs)), 'lock renewal').catch(markDown);
    }, Math.max(1, Math.floor(lockTtlMs / 3)));
    renewal.unref();
    try {
      return await run();
    } finally {
      clearInterval(renewal);
      if (state === 'up') {
        // A failed release is harmless for correctness: the lock expires on its own.
        await timed(client.eval(RELEASE_SCRIPT, 1, lockKey, token, names.channel(key)), 'lock release').catch(markDown);
      }
    }
  }

  return {
    get state() {
      return state;
    },

    async get(key) {
      if (state === 'up') {
        try {
          const text = await timed(client.get(names.value(key)), 'GET');
          return text === null ? undefined : decodeStored(text);
        } catch (error) {
          markDown(error);
        }
      }
      fallback('get');
      return local.get(key);
    },

    async set(key: string, value: StoredResolution, ttlMs: number | undefined) {
      // Also kept locally (validating ttlMs), so that an outage starts from a warm cache.
      await local.set(key, value, ttlMs);
      if (state === 'up') {
        try {
          const text = encodeStored(value);
          const name = names.value(key);
          await timed(ttlMs === undefined ? client.set(name, text) : client.set(name, text, 'PX', Math.ceil(ttlMs)), 'SET');
          return;
        } catch (error) {
          markDown(error);
        }
      }
      fallback('set');
    },

    async delete(key) {
      await local.delete(key);
      if (state === 'up') {
        try {
          await timed(client.del(names.value(key)), 'DEL');
          return;
        } catch (error) {
          markDown(error);
        }
      }
      fallback('delete');
    },

    async coordinate<T>(key: string, run: () => Promise<T>): Promise<T> {
      if (typeof key !== 'string' || typeof run !== 'function') throw new TypeError('coordinate(key, run) needs a string key and a function');
      if (state === 'up') {
        const token = randomUUID();
        let outcome: 'acquired' | 'unavailable';
        try {
          outcome = (await acquire(names.lock(key), token)) ? 'acquired' : await waitForLock(key, token);
        } catch (error) {
          markDown(error);
          outcome = 'unavailable';
        }
        if (outcome === 'acquired') return holdWhile(key, token, run);
      }
      // Without Redis (or after waiting maxWaitMs) this replica resolves on its own: playback
      // matters more than saving a resolver call.
      fallback('coordinate');
      return run();
    },

    async close() {
      if (closed) return;
      closed = true;
      state = 'down';
      if (probeTimer !== undefined) clearInterval(probeTimer);
      wakeAll();
      client.disconnect();
      subscriber.disconnect();
    },
  };
}
