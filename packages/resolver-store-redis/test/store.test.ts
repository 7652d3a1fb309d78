import { createResolverClient, type EpisodeIdentity, type Resolution, type ResolutionSource, type StoredResolution } from '@strm/resolver-client';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createRedisStore, redisKeyNames, RedisStoreError, type RedisResolutionStore, type RedisStoreOperation, type RedisStoreOptions, type RedisStoreStateChange } from '../src/index';
import { startRedisServer, type RedisServer } from '../../../tools/testing/redis-server';

const stored = (url: string, resolvedAt = 1_735_732_800_000): StoredResolution => ({
  resolution: { url, headers: { Referer: 'https://voe.example/' }, provider: 'VOE', expiresAt: resolvedAt + 3_600_000 },
  resolvedAt,
  refreshed: false,
});
const KEY = '["aniworld.to","frieren",1,3,"German Dub",null]';

/** A store whose state changes and fallbacks are recorded; `reached(state)` waits for the next such change. */
function observed(redis: RedisServer, options: Partial<RedisStoreOptions> = {}) {
  const changes: RedisStoreStateChange[] = [];
  const fallbacks: RedisStoreOperation[] = [];
  const waiters: Array<{ state: string; from: number; resolve: (change: RedisStoreStateChange) => void }> = [];
  const store = createRedisStore({
    url: redis.url,
    onStateChange: (change) => {
      changes.push(change);
      for (const waiter of waiters.filter((w) => w.state === change.state && changes.length > w.from)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(change);
      }
    },
    onFallback: (operation) => fallbacks.push(operation),
    ...options,
  });
  stores.push(store);
  /** The first change to `state` after the `from`-th change (default: any change not yet seen by a previous call). */
  const reached = (state: RedisStoreStateChange['state'], from = changes.length) =>
    new Promise<RedisStoreStateChange>((resolve) => {
      const seen = changes.slice(from).find((c) => c.state === state);
      if (seen) resolve(seen);
      else waiters.push({ state, from, resolve });
    });
  return { store, changes, fallbacks, reached };
}

/** A promise with its resolve function, to hold a `run` open until the test lets it go. */
function deferred<T = void>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

const stores: RedisResolutionStore[] = [];
let redis: RedisServer;
let raw: Redis;

beforeAll(async () => {
  redis = await startRedisServer();
  raw = new Redis(redis.url);
});
beforeEach(async () => {
  await raw.flushall();
});
afterEach(async () => {
  await Promise.all(stores.splice(0).map((store) => store.close()));
});
afterAll(async () => {
  raw.disconnect();
  await redis.stop();
});

describe('values', () => {
  it('set → get on another store instance (another replica) returns the same value', async () => {
    const a = observed(redis);
    const b = observed(redis);
    await Promise.all([a.reached('up'), b.reached('up')]);
    await a.store.set(KEY, stored('https://cdn.example/v1.m3u8'), 60_000);
    expect(await b.store.get(KEY)).toEqual(stored('https://cdn.example/v1.m3u8'));
    expect(await b.store.get('["other"]')).toBeUndefined();
    expect(a.fallbacks).toEqual([]);
  });

  it.each<[string, number | undefined, [number, number]]>([
    ['set(key, value, 60000) → PTTL within (59000, 60000]', 60_000, [59_000, 60_000]],
    ['set(key, value, 1234.2) → PTTL rounded up, within (234, 1235]', 1234.2, [234, 1235]],
    ['set(key, value, undefined) → no expiry (PTTL -1)', undefined, [-1, -1]],
  ])('%s', async (_name, ttlMs, [low, high]) => {
    const { store, reached } = observed(redis);
    await reached('up');
    await store.set(KEY, stored('https://cdn.example/a'), ttlMs);
    const pttl = await raw.pttl(`strm:v1:res:${KEY}`);
    expect(pttl).toBeGreaterThanOrEqual(low);
    expect(pttl).toBeLessThanOrEqual(high);
  });

  it('an entry expires in Redis after its ttlMs', async () => {
    const { store, reached } = observed(redis);
    await reached('up');
    await store.set(KEY, stored('https://cdn.example/a'), 50);
    // Time is what is tested here: Redis drops the key on its own.
    await new Promise((resolve) => setTimeout(resolve, 120));
    expect(await store.get(KEY)).toBeUndefined();
  });

  it('keys are namespaced and versioned: <prefix>:v1:res:<key>, prefix configurable', async () => {
    const a = observed(redis);
    const b = observed(redis, { prefix: 'tenant-b' });
    await Promise.all([a.reached('up'), b.reached('up')]);
    await a.store.set(KEY, stored('https://cdn.example/a'), undefined);
    await b.store.set(KEY, stored('https://cdn.example/b'), undefined);
    expect((await raw.keys('*')).sort()).toEqual([`strm:v1:res:${KEY}`, `tenant-b:v1:res:${KEY}`]);
    expect((await b.store.get(KEY))?.resolution.url).toBe('https://cdn.example/b');
    // The exported key names are the ones the store writes.
    expect((await raw.keys('*')).sort()).toEqual([redisKeyNames('strm').value(KEY), redisKeyNames('tenant-b').value(KEY)]);
    expect([redisKeyNames('x').value('k'), redisKeyNames('x').lock('k'), redisKeyNames('x').channel('k')]).toEqual(['x:v1:res:k', 'x:v1:lock:k', 'x:v1:done:k']);
  });

  it.each<[string, string]>([
    ['not JSON', '{"resolution":'],
    ['JSON but not a stored resolution', '{"url":"https://cdn.example/a"}'],
    ['a header value that is not a string', JSON.stringify({ ...stored('https://a.example/'), resolution: { url: 'https://a.example/', headers: { A: 1 } } })],
    ['expiresAt as a string', JSON.stringify({ ...stored('https://a.example/'), resolution: { url: 'https://a.example/', headers: {}, expiresAt: '2025' } })],
  ])('a value that is %s is a miss, not an error', async (_name, text) => {
    const { store, reached } = observed(redis);
    await reached('up');
    await raw.set(`strm:v1:res:${KEY}`, text);
    expect(await store.get(KEY)).toBeUndefined();
  });

  it('delete removes the value for every replica', async () => {
    const a = observed(redis);
    const b = observed(redis);
    await Promise.all([a.reached('up'), b.reached('up')]);
    await a.store.set(KEY, stored('https://cdn.example/a'), undefined);
    await b.store.delete(KEY);
    expect(await a.store.get(KEY)).toBeUndefined();
  });

  it('set with ttlMs 0 is misuse (TypeError), as in the memory store', async () => {
    const { store, reached } = observed(redis);
    await reached('up');
    await expect(store.set(KEY, stored('https://cdn.example/a'), 0)).rejects.toThrow(TypeError);
  });
});

describe('coordinate: one runner per key across replicas', () => {
  it('two replicas: the second runs only after the first finished, woken by pub/sub (not the poll)', async () => {
    const a = observed(redis, { pollIntervalMs: 60_000 });
    const b = observed(redis, { pollIntervalMs: 60_000 });
    await Promise.all([a.reached('up'), b.reached('up')]);
    const order: string[] = [];
    const hold = deferred();
    const aStarted = deferred();
    const first = a.store.coordinate(KEY, async () => {
      order.push('a:start');
      aStarted.resolve();
      await hold.promise;
      order.push('a:end');
      return 'a';
    });
    await aStarted.promise;
    expect(await raw.exists(`strm:v1:lock:${KEY}`)).toBe(1);
    // b waits for the lock once it has subscribed and tried again; only then may a finish.
    const waiting = await commandsExecuted([
      (args) => args[0]?.toLowerCase() === 'subscribe' && args[1] === `strm:v1:done:${KEY}`,
      (args) => args[0]?.toLowerCase() === 'set' && args[1] === `strm:v1:lock:${KEY}` && args.includes('NX'),
    ]);
    const second = b.store.coordinate(KEY, async () => {
      order.push('b:start');
      return 'b';
    });
    await waiting.done;
    hold.resolve();
    expect(await Promise.all([first, second])).toEqual(['a', 'b']);
    expect(order).toEqual(['a:start', 'a:end', 'b:start']);
    expect(await raw.exists(`strm:v1:lock:${KEY}`)).toBe(0);
    expect([...a.fallbacks, ...b.fallbacks]).toEqual([]);
  });

  it('different keys do not wait for each other', async () => {
    const a = observed(redis);
    const b = observed(redis);
    await Promise.all([a.reached('up'), b.reached('up')]);
    const hold = deferred();
    const aStarted = deferred();
    const first = a.store.coordinate('k1', async () => {
      aStarted.resolve();
      await hold.promise;
    });
    await aStarted.promise;
    await expect(b.store.coordinate('k2', async () => 'ran')).resolves.toBe('ran');
    hold.resolve();
    await first;
  });

  it('a lock left by a holder that died expires, and a waiter takes over (found by the poll)', async () => {
    const { store, reached } = observed(redis, { pollIntervalMs: 20 });
    await reached('up');
    // What a killed replica leaves behind: its lock, never renewed or released.
    await raw.set(`strm:v1:lock:${KEY}`, 'dead-holder', 'PX', 300);
    const started = performance.now();
    await expect(store.coordinate(KEY, async () => 'took over')).resolves.toBe('took over');
    expect(performance.now() - started).toBeGreaterThanOrEqual(250);
  });

  it('a live holder renews its lock: it outlives lockTtlMs while run runs, and is gone after', async () => {
    // A lifetime long enough that a busy machine (the suites run side by side) does not stall the
    // renewal, every third of it, past its end: with 90 ms a 90 ms stall of the test process or of
    // redis-server let the lock expire under a live holder.
    const { store, reached } = observed(redis, { lockTtlMs: 600 });
    await reached('up');
    const hold = deferred();
    const started = deferred();
    const done = store.coordinate(KEY, async () => {
      started.resolve();
      await hold.promise;
    });
    await started.promise;
    // Time is what is tested: four lock lifetimes.
    await new Promise((resolve) => setTimeout(resolve, 2400));
    expect(await raw.get(`strm:v1:lock:${KEY}`)).toMatch(/^[0-9a-f-]{36}$/);
    hold.resolve();
    await done;
    expect(await raw.exists(`strm:v1:lock:${KEY}`)).toBe(0);
  });

  it('a release does not delete a lock that another holder took after ours expired', async () => {
    const { store, reached } = observed(redis, { lockTtlMs: 30_000 });
    await reached('up');
    const done = store.coordinate(KEY, async () => {
      // Ours "expired" and another replica took the lock meanwhile.
      await raw.set(`strm:v1:lock:${KEY}`, 'someone-else');
    });
    await done;
    expect(await raw.get(`strm:v1:lock:${KEY}`)).toBe('someone-else');
  });

  it('maxWaitMs bounds a wait: past it, the waiter runs without the lock and counts a fallback', async () => {
    const { store, reached, fallbacks } = observed(redis, { maxWaitMs: 100, pollIntervalMs: 20 });
    await reached('up');
    await raw.set(`strm:v1:lock:${KEY}`, 'stuck-holder', 'PX', 60_000);
    await expect(store.coordinate(KEY, async () => 'ran')).resolves.toBe('ran');
    expect(fallbacks).toEqual(['coordinate']);
  });

  it('run errors pass through and release the lock', async () => {
    const { store, reached } = observed(redis);
    await reached('up');
    await expect(store.coordinate(KEY, async () => {
      throw new Error('resolver said no');
    })).rejects.toThrow('resolver said no');
    expect(await raw.exists(`strm:v1:lock:${KEY}`)).toBe(0);
  });

  it('with @strm/resolver-client: 3 replicas × 20 concurrent resolves → 1 source call; a refresh storm → 1 more', async () => {
    const identity: EpisodeIdentity = { site: 'aniworld.to', slug: 'frieren', season: 1, episode: 3, language: 'German Dub' };
    const calls: boolean[] = [];
    const gate = deferred();
    const source: ResolutionSource = {
      async resolve(_identity, { refresh }): Promise<Resolution> {
        calls.push(refresh);
        await gate.promise;
        return { url: `https://cdn.example/frieren/v${calls.length}.m3u8`, headers: {} };
      },
    };
    const replicas = [observed(redis), observed(redis), observed(redis)];
    await Promise.all(replicas.map((r) => r.reached('up')));
    const clients = replicas.map(({ store }) => createResolverClient({ source, store }));
    const results = Promise.all(clients.flatMap((client) => Array.from({ length: 20 }, () => client.resolve(identity))));
    gate.resolve();
    expect(new Set((await results).map((r) => r.resolution.url))).toEqual(new Set(['https://cdn.example/frieren/v1.m3u8']));
    const storm = await Promise.all(clients.flatMap((client) => Array.from({ length: 10 }, () => client.resolve(identity, { refresh: true, staleUrl: 'https://cdn.example/frieren/v1.m3u8' }))));
    expect(new Set(storm.map((r) => r.resolution.url))).toEqual(new Set(['https://cdn.example/frieren/v2.m3u8']));
    expect(calls).toEqual([false, true]);
  });
});

/**
 * Resolves once Redis has executed commands matching `steps`, in order (seen through MONITOR),
 * e.g. a waiter's SUBSCRIBE followed by its next lock attempt.
 */
async function commandsExecuted(steps: Array<(args: string[]) => boolean>): Promise<{ done: Promise<void> }> {
  const monitor = await raw.monitor();
  let next = 0;
  const done = new Promise<void>((resolve) => {
    monitor.on('monitor', (_time: string, args: string[]) => {
      if (next < steps.length && steps[next]!(args.map(String))) next += 1;
      if (next === steps.length) {
        monitor.disconnect();
        resolve();
      }
    });
  });
  return { done };
}

describe('Redis down, slow or back', () => {
  let own: RedisServer;
  beforeEach(async () => {
    own = await startRedisServer();
  });
  afterEach(async () => {
    await own.stop();
  });

  it('stopped: one down report, values served from the local cache, coordinate runs at once; restarted: up, sharing resumes', async () => {
    const a = observed(own, { probeIntervalMs: 50 });
    const b = observed(own, { probeIntervalMs: 50 });
    await Promise.all([a.reached('up'), b.reached('up')]);
    await a.store.set(KEY, stored('https://cdn.example/before'), 60_000);

    const down = a.reached('down');
    await own.stop();
    const change = await down;
    expect(change).toMatchObject({ state: 'down', error: { code: 'STRM_REDIS_UNAVAILABLE' } });
    expect(change.state === 'down' && change.error).toBeInstanceOf(RedisStoreError);
    expect(change.state === 'down' && change.error.message).toMatch(new RegExp(`^connection to Redis at 127\\.0\\.0\\.1:${own.port} lost`));
    expect(a.store.state).toBe('down');

    expect((await a.store.get(KEY))?.resolution.url).toBe('https://cdn.example/before');
    await a.store.set('k2', stored('https://cdn.example/during'), undefined);
    expect((await a.store.get('k2'))?.resolution.url).toBe('https://cdn.example/during');
    await expect(a.store.coordinate(KEY, async () => 'ran')).resolves.toBe('ran');
    for (let i = 0; i < 20; i++) await a.store.get(KEY);
    expect(a.changes.map((c) => c.state)).toEqual(['up', 'down']);
    expect(a.fallbacks.filter((op) => op === 'get')).toHaveLength(22);
    expect(a.fallbacks).toContain('coordinate');

    const upA = a.reached('up');
    const upB = b.reached('up');
    await own.restart();
    await Promise.all([upA, upB]);
    expect(a.changes.map((c) => c.state)).toEqual(['up', 'down', 'up']);
    // Local entries of the outage are dropped: Redis (restarted empty) is the truth again.
    expect(await a.store.get('k2')).toBeUndefined();
    await a.store.set(KEY, stored('https://cdn.example/after'), 60_000);
    expect((await b.store.get(KEY))?.resolution.url).toBe('https://cdn.example/after');
  });

  it('slow (SIGSTOP): a get returns within commandTimeoutMs from the local cache, down with STRM_REDIS_TIMEOUT; SIGCONT: up again', async () => {
    const a = observed(own, { commandTimeoutMs: 100, probeIntervalMs: 50 });
    await a.reached('up');
    await a.store.set(KEY, stored('https://cdn.example/a'), 60_000);
    own.pause();
    try {
      const down = a.reached('down');
      const started = performance.now();
      expect((await a.store.get(KEY))?.resolution.url).toBe('https://cdn.example/a');
      expect(performance.now() - started).toBeLessThan(1000);
      expect(await down).toMatchObject({ state: 'down', error: { code: 'STRM_REDIS_TIMEOUT', message: `Redis at 127.0.0.1:${own.port} did not answer GET within 100 ms` } });
    } finally {
      own.resume();
    }
    await a.reached('up');
    expect(a.store.state).toBe('up');
  });

  it('a waiter whose Redis goes down stops waiting and runs at once (no wait for the lock to expire)', async () => {
    const a = observed(own, { lockTtlMs: 60_000, pollIntervalMs: 60_000 });
    const b = observed(own, { lockTtlMs: 60_000, pollIntervalMs: 60_000 });
    await Promise.all([a.reached('up'), b.reached('up')]);
    const hold = deferred();
    const started = deferred();
    const first = a.store.coordinate(KEY, async () => {
      started.resolve();
      await hold.promise;
    });
    await started.promise;
    const second = b.store.coordinate(KEY, async () => 'b ran');
    await own.stop();
    await expect(second).resolves.toBe('b ran');
    hold.resolve();
    await first;
  });

  it('unreachable from the start: one down report, every operation works locally', async () => {
    await own.stop();
    const a = observed(own);
    const change = await a.reached('down');
    expect(change).toMatchObject({ state: 'down', error: { code: 'STRM_REDIS_UNAVAILABLE', message: expect.stringContaining('ECONNREFUSED') } });
    await a.store.set(KEY, stored('https://cdn.example/a'), undefined);
    expect((await a.store.get(KEY))?.resolution.url).toBe('https://cdn.example/a');
    await a.store.delete(KEY);
    expect(await a.store.get(KEY)).toBeUndefined();
    expect(a.changes).toHaveLength(1);
    expect(a.fallbacks).toEqual(['set', 'get', 'delete', 'get']);
    await own.restart();
  });

  it('after close(): no state report, operations work on the local cache', async () => {
    const a = observed(own);
    await a.reached('up');
    await a.store.close();
    await a.store.set(KEY, stored('https://cdn.example/a'), undefined);
    expect((await a.store.get(KEY))?.resolution.url).toBe('https://cdn.example/a');
    expect(a.changes.map((c) => c.state)).toEqual(['up']);
    expect(a.store.state).toBe('down');
  });
});

describe('createRedisStore options', () => {
  it.each<[string, Record<string, unknown>, RegExp]>([
    ['no url', {}, /^options.url must be a redis:\/\/ or rediss:\/\/ URL with a host; received undefined$/],
    ['an http url (length only, never the value)', { url: 'http://user:hunter2@redis:6379' }, /^options.url must be .*; received a string of 30 characters$/],
    ['a url without host', { url: 'redis://' }, /options.url must be/],
    ['an empty prefix', { url: 'redis://127.0.0.1:1', prefix: '' }, /^options.prefix must be a non-empty string without spaces; received ""$/],
    ['a zero command timeout', { url: 'redis://127.0.0.1:1', commandTimeoutMs: 0 }, /^options.commandTimeoutMs must be a positive integer; received 0$/],
    ['a fractional poll interval', { url: 'redis://127.0.0.1:1', pollIntervalMs: 2.5 }, /^options.pollIntervalMs must be a positive integer; received 2.5$/],
    ['a lock TTL below 30 ms', { url: 'redis://127.0.0.1:1', lockTtlMs: 10 }, /^options.lockTtlMs must be at least 30/],
    ['a string maxWaitMs', { url: 'redis://127.0.0.1:1', maxWaitMs: '100' }, /^options.maxWaitMs must be a positive integer; received string$/],
    ['an onStateChange that is not a function', { url: 'redis://127.0.0.1:1', onStateChange: 'log' }, /^options.onStateChange must be a function; received a value of type string$/],
  ])('createRedisStore(%s) throws a TypeError', (_name, options, message) => {
    expect(() => createRedisStore(options as unknown as RedisStoreOptions)).toThrow(TypeError);
    expect(() => createRedisStore(options as unknown as RedisStoreOptions)).toThrow(message);
  });
});
