import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  createHttpResolverSource,
  createMemoryStore,
  createResolverClient,
  ResolverError,
  type EpisodeIdentity,
  type HttpResolverSource,
  type ResolutionStore,
  type ResolverClientOptions,
  type ResolverEvent,
  type StoredResolution,
} from '../src/index';
import { defaultReply, startFakeResolver, type FakeResolver } from './fake-resolver';

const frieren: EpisodeIdentity = { site: 'aniworld.to', slug: 'frieren', season: 1, episode: 3, language: 'German Dub' };
const T0 = Date.UTC(2025, 0, 1, 12);

let fake: FakeResolver;
const sources: HttpResolverSource[] = [];

beforeAll(async () => {
  fake = await startFakeResolver();
});
afterEach(async () => {
  fake.reply(defaultReply);
  await Promise.all(sources.splice(0).map((s) => s.close()));
});
afterAll(async () => {
  await fake.close();
});

/** A client on the fake resolver with a clock the test moves, and the events it reported. */
function setup(options: Partial<ResolverClientOptions> & { timeoutMs?: number } = {}) {
  const { timeoutMs, ...clientOptions } = options;
  const source = createHttpResolverSource({ baseUrl: fake.origin, ...(timeoutMs === undefined ? {} : { timeoutMs }) });
  sources.push(source);
  const clock = { t: T0 };
  const events: ResolverEvent[] = [];
  const client = createResolverClient({ source, now: () => clock.t, onEvent: (e) => events.push(e), ...clientOptions });
  const startHits = fake.hits;
  return { client, clock, events, hits: () => fake.hits - startHits, url: (hit: number) => `https://cdn.example/frieren/s1e3/v${startHits + hit}.m3u8` };
}

const types = (events: ResolverEvent[]) => events.map((e) => e.type);

describe('cache', () => {
  it('a second resolve is a cache hit: one resolver call', async () => {
    const { client, events, hits, url } = setup();
    const first = await client.resolve(frieren);
    const second = await client.resolve(frieren);
    expect(first).toEqual({ resolution: { url: url(1), headers: { Referer: 'https://voe.example/' }, provider: 'VOE' }, resolvedAt: T0, refreshed: false });
    expect(second).toEqual(first);
    expect(hits()).toBe(1);
    expect(types(events)).toEqual(['resolve', 'cache-hit']);
  });

  it('identities that differ in any field are cached apart', async () => {
    const { client, hits } = setup();
    const variants: EpisodeIdentity[] = [frieren, { ...frieren, site: 's.to' }, { ...frieren, slug: 'x' }, { ...frieren, season: 2 }, { ...frieren, episode: 4 }, { ...frieren, language: 'English Sub' }, { ...frieren, provider: 'VOE' }];
    for (const identity of variants) await client.resolve(identity);
    for (const identity of variants) await client.resolve(identity);
    expect(hits()).toBe(variants.length);
  });

  it('callers get copies: changing one result does not change the cache', async () => {
    const { client } = setup();
    const first = await client.resolve(frieren);
    first.resolution.headers['Referer'] = 'changed';
    first.resolution.url = 'changed';
    expect((await client.resolve(frieren)).resolution).toMatchObject({ url: expect.stringMatching(/^https:/), headers: { Referer: 'https://voe.example/' } });
  });

  it('expiresAt: fresh until expiresAt - expiryMarginSeconds, then resolved again', async () => {
    fake.reply((request, hit) => {
      const answer = defaultReply(request, hit) as { kind: 'json'; body: Record<string, unknown> };
      return { kind: 'json', body: { ...answer.body, expiresAt: new Date(T0 + 120_000).toISOString() } };
    });
    const { client, clock, hits } = setup({ expiryMarginSeconds: 30 });
    expect((await client.resolve(frieren)).resolution.expiresAt).toBe(T0 + 120_000);
    clock.t = T0 + 89_999;
    await client.resolve(frieren);
    expect(hits()).toBe(1);
    clock.t = T0 + 90_000;
    await client.resolve(frieren);
    expect(hits()).toBe(2);
  });

  it('cacheTtlSeconds: fresh for the TTL, then resolved again', async () => {
    const { client, clock, hits } = setup({ cacheTtlSeconds: 60 });
    await client.resolve(frieren);
    clock.t = T0 + 59_999;
    await client.resolve(frieren);
    expect(hits()).toBe(1);
    clock.t = T0 + 60_000;
    const again = await client.resolve(frieren);
    expect(hits()).toBe(2);
    expect(again.resolvedAt).toBe(T0 + 60_000);
  });

  it('TTL and expiresAt together: the earlier one wins', async () => {
    fake.reply((request, hit) => ({ kind: 'json', body: { url: `https://cdn.example/v${hit}`, expiresAt: new Date(T0 + 600_000).toISOString() } }));
    const { client, clock, hits } = setup({ cacheTtlSeconds: 60, expiryMarginSeconds: 0 });
    await client.resolve(frieren);
    clock.t = T0 + 60_000;
    await client.resolve(frieren);
    expect(hits()).toBe(2);
  });

  it('cacheTtlSeconds 0 and no expiresAt: kept until invalidated', async () => {
    const { client, clock, hits } = setup();
    await client.resolve(frieren);
    clock.t = T0 + 365 * 86_400_000;
    await client.resolve(frieren);
    expect(hits()).toBe(1);
    await client.invalidate(frieren);
    await client.resolve(frieren);
    expect(hits()).toBe(2);
  });

  it('a resolution that is stale on arrival is returned but not cached', async () => {
    fake.reply((request, hit) => ({ kind: 'json', body: { url: `https://cdn.example/v${hit}`, expiresAt: new Date(T0 + 10_000).toISOString() } }));
    const { client, hits } = setup({ expiryMarginSeconds: 30 });
    await client.resolve(frieren);
    await client.resolve(frieren);
    expect(hits()).toBe(2);
  });

  it('the size bound of the store evicts the least recently used identity', async () => {
    const { client, hits } = setup({ store: createMemoryStore({ maxEntries: 2 }) });
    const [a, b, c] = [1, 2, 3].map((episode) => ({ ...frieren, episode }));
    await client.resolve(a!);
    await client.resolve(b!);
    await client.resolve(c!); // evicts a
    expect(hits()).toBe(3);
    await client.resolve(c!);
    await client.resolve(b!);
    expect(hits()).toBe(3);
    await client.resolve(a!);
    expect(hits()).toBe(4);
  });
});

describe('single-flight', () => {
  it('50 concurrent resolves of one identity make 1 resolver call and share its answer', async () => {
    const { client, events, hits } = setup();
    const release = fake.hold();
    const calls = Array.from({ length: 50 }, () => client.resolve(frieren));
    await fake.hitsReached(fake.hits + 1);
    release();
    const results = await Promise.all(calls);
    expect(hits()).toBe(1);
    expect(new Set(results.map((r) => r.resolution.url)).size).toBe(1);
    expect(types(events).filter((t) => t === 'resolve')).toHaveLength(1);
    expect(types(events).filter((t) => t === 'shared')).toHaveLength(49);
  });

  it('concurrent resolves of different identities do not wait for each other', async () => {
    const { client, hits } = setup();
    const release = fake.hold();
    const calls = [1, 2, 3].map((episode) => client.resolve({ ...frieren, episode }));
    await fake.hitsReached(fake.hits + 3);
    release();
    await Promise.all(calls);
    expect(hits()).toBe(3);
  });

  it('a failed call is shared by its waiters, not cached, and the next call tries again', async () => {
    fake.reply(() => ({ kind: 'status', status: 500 }));
    const { client, events, hits, url } = setup();
    const release = fake.hold();
    const calls = Array.from({ length: 10 }, () => client.resolve(frieren).catch((e: unknown) => e));
    await fake.hitsReached(fake.hits + 1);
    release();
    const errors = await Promise.all(calls);
    expect(errors.every((e) => e instanceof ResolverError && e.code === 'STRM_RESOLVER_UNAVAILABLE' && e.status === 500)).toBe(true);
    expect(hits()).toBe(1);
    expect(types(events)).toEqual(['error']);
    fake.reply(defaultReply);
    expect((await client.resolve(frieren)).resolution.url).toBe(url(2));
  });

  it('a resolver that never answers: the call times out with STRM_RESOLVER_TIMEOUT, the next call tries again and succeeds', async () => {
    fake.reply(() => ({ kind: 'never' }));
    const { client, hits, url } = setup({ timeoutMs: 200 });
    const error = await client.resolve(frieren).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ResolverError);
    expect((error as ResolverError).code).toBe('STRM_RESOLVER_TIMEOUT');
    fake.reply(defaultReply);
    expect((await client.resolve(frieren)).resolution.url).toBe(url(2));
    expect(hits()).toBe(2);
  });

  it('404 → STRM_RESOLVER_NOT_FOUND, not cached', async () => {
    fake.reply(() => ({ kind: 'status', status: 404 }));
    const { client, hits } = setup();
    await expect(client.resolve(frieren)).rejects.toMatchObject({ code: 'STRM_RESOLVER_NOT_FOUND', status: 404 });
    await expect(client.resolve(frieren)).rejects.toMatchObject({ code: 'STRM_RESOLVER_NOT_FOUND' });
    expect(hits()).toBe(2);
  });

  it("a caller's abort ends its own wait only; the shared call completes for the others and fills the cache", async () => {
    const { client, hits } = setup();
    const release = fake.hold();
    const controller = new AbortController();
    const leaving = client.resolve(frieren, { signal: controller.signal });
    const staying = client.resolve(frieren);
    await fake.hitsReached(fake.hits + 1);
    controller.abort(new Error('player closed'));
    await expect(leaving).rejects.toThrow('player closed');
    release();
    const result = await staying;
    expect(await client.resolve(frieren)).toEqual(result);
    expect(hits()).toBe(1);
  });

  it('an already aborted signal rejects before any call', async () => {
    const { client, hits } = setup();
    await expect(client.resolve(frieren, { signal: AbortSignal.abort(new Error('gone')) })).rejects.toThrow('gone');
    expect(hits()).toBe(0);
  });
});

describe('refresh', () => {
  it('{ refresh: true } bypasses the cache and sends refresh=1', async () => {
    const { client, hits, url, events } = setup();
    await client.resolve(frieren);
    const at = fake.hits;
    const refreshed = await client.resolve(frieren, { refresh: true });
    expect(hits()).toBe(2);
    expect(fake.requests[at]!.searchParams.get('refresh')).toBe('1');
    expect(refreshed).toMatchObject({ resolution: { url: url(2) }, refreshed: true });
    expect(await client.resolve(frieren)).toEqual(refreshed);
    expect(types(events)).toEqual(['resolve', 'refresh', 'cache-hit']);
  });

  it('100 concurrent refreshes make 1 resolver call', async () => {
    const { client, hits, url, events } = setup();
    await client.resolve(frieren);
    const release = fake.hold();
    const calls = Array.from({ length: 100 }, () => client.resolve(frieren, { refresh: true, staleUrl: url(1) }));
    await fake.hitsReached(fake.hits + 1);
    release();
    const results = await Promise.all(calls);
    expect(hits()).toBe(2);
    expect(results.every((r) => r.resolution.url === url(2))).toBe(true);
    expect(types(events).filter((t) => t === 'refresh')).toHaveLength(1);
  });

  it('a refresh within minRefreshIntervalMs of the last refresh reuses its result; after it, calls again', async () => {
    const { client, clock, hits, url, events } = setup({ minRefreshIntervalMs: 5000 });
    await client.resolve(frieren, { refresh: true });
    clock.t = T0 + 4999;
    expect((await client.resolve(frieren, { refresh: true, staleUrl: url(1) })).resolution.url).toBe(url(1));
    expect(hits()).toBe(1);
    expect(events.at(-1)).toEqual({ type: 'refresh-reused', key: expect.any(String), reason: 'min-interval' });
    clock.t = T0 + 5000;
    expect((await client.resolve(frieren, { refresh: true, staleUrl: url(1) })).resolution.url).toBe(url(2));
    expect(hits()).toBe(2);
  });

  it('a burst of 100 failing requests, in waves, makes one resolver call', async () => {
    const { client, clock, hits, url } = setup();
    await client.resolve(frieren);
    // Each wave: every request saw the URL it got fail and asks for a refresh, as the proxy does.
    for (let wave = 0; wave < 10; wave++) {
      clock.t = T0 + wave * 400;
      const cached = await client.resolve(frieren);
      await Promise.all(Array.from({ length: 10 }, () => client.resolve(frieren, { refresh: true, staleUrl: cached.resolution.url })));
    }
    expect(hits()).toBe(2);
    expect((await client.resolve(frieren)).resolution.url).toBe(url(2));
  });

  it('invalidate does not reset the minimum interval', async () => {
    const { client, clock, hits } = setup();
    const refreshed = await client.resolve(frieren, { refresh: true });
    await client.invalidate(frieren);
    clock.t = T0 + 1000;
    expect(await client.resolve(frieren, { refresh: true })).toEqual(refreshed);
    expect(hits()).toBe(1);
  });

  it('minRefreshIntervalMs 0: every refresh calls', async () => {
    const { client, hits } = setup({ minRefreshIntervalMs: 0 });
    await client.resolve(frieren, { refresh: true });
    await client.resolve(frieren, { refresh: true });
    expect(hits()).toBe(2);
  });

  it('staleUrl: a cached URL that already differs is returned without a call; the same URL is refreshed', async () => {
    const { client, hits, url, events } = setup();
    await client.resolve(frieren);
    const reused = await client.resolve(frieren, { refresh: true, staleUrl: 'https://cdn.example/older.m3u8' });
    expect(reused.resolution.url).toBe(url(1));
    expect(hits()).toBe(1);
    expect(events.at(-1)).toMatchObject({ type: 'refresh-reused', reason: 'stale-url' });
    const refreshed = await client.resolve(frieren, { refresh: true, staleUrl: url(1) });
    expect(refreshed.resolution.url).toBe(url(2));
    expect(hits()).toBe(2);
  });

  it('staleUrl: an expired cached entry is not reused, even when its URL differs', async () => {
    const { client, clock, hits } = setup({ cacheTtlSeconds: 60 });
    await client.resolve(frieren);
    clock.t = T0 + 61_000;
    await client.resolve(frieren, { refresh: true, staleUrl: 'https://cdn.example/older.m3u8' });
    expect(hits()).toBe(2);
  });

  it('a refresh that arrives during a lookup waits for it, then applies the staleUrl rule', async () => {
    const { client, hits, url } = setup();
    const release = fake.hold();
    const lookup = client.resolve(frieren);
    const refresh = client.resolve(frieren, { refresh: true, staleUrl: 'https://cdn.example/older.m3u8' });
    await fake.hitsReached(fake.hits + 1);
    release();
    expect((await lookup).resolution.url).toBe(url(1));
    expect((await refresh).resolution.url).toBe(url(1));
    expect(hits()).toBe(1);
  });

  it('a refresh without staleUrl that arrives during a lookup does not take its answer: it refreshes after it', async () => {
    const { client, hits, url } = setup();
    const release = fake.hold();
    const lookup = client.resolve(frieren);
    const refresh = client.resolve(frieren, { refresh: true });
    await fake.hitsReached(fake.hits + 1);
    release();
    expect(await lookup).toMatchObject({ resolution: { url: url(1) }, refreshed: false });
    expect(await refresh).toMatchObject({ resolution: { url: url(2) }, refreshed: true });
    expect(fake.requests.at(-1)!.searchParams.get('refresh')).toBe('1');
    expect(hits()).toBe(2);
  });

  it('a lookup that arrives during a refresh shares it', async () => {
    const { client, hits, url, events } = setup();
    const release = fake.hold();
    const refresh = client.resolve(frieren, { refresh: true });
    const lookup = client.resolve(frieren);
    await fake.hitsReached(fake.hits + 1);
    release();
    expect((await refresh).resolution.url).toBe(url(1));
    expect((await lookup).resolution.url).toBe(url(1));
    expect(hits()).toBe(1);
    expect(events.at(-1)).toMatchObject({ type: 'shared', refresh: true });
  });

  it('a refresh that joined one answered for another staleUrl, with its own stale URL, decides again', async () => {
    const { client, hits, url } = setup({ minRefreshIntervalMs: 0 });
    await client.resolve(frieren); // v1 cached
    // Started together, the second joins the first, which answers v1 (it differs from "older").
    const first = client.resolve(frieren, { refresh: true, staleUrl: 'https://cdn.example/older.m3u8' });
    const second = client.resolve(frieren, { refresh: true, staleUrl: url(1) });
    expect((await first).resolution.url).toBe(url(1));
    expect((await second).resolution.url).toBe(url(2));
    expect(hits()).toBe(2);
  });

  it('a failed refresh is not remembered: the next refresh calls again', async () => {
    const { client, hits, url } = setup();
    fake.reply(() => ({ kind: 'status', status: 502 }));
    await expect(client.resolve(frieren, { refresh: true })).rejects.toMatchObject({ code: 'STRM_RESOLVER_UNAVAILABLE', status: 502 });
    fake.reply(defaultReply);
    expect((await client.resolve(frieren, { refresh: true })).resolution.url).toBe(url(2));
    expect(hits()).toBe(2);
  });
});

describe('sources and stores that misbehave', () => {
  it('a custom source that throws a plain error → STRM_RESOLVER_UNAVAILABLE with it as cause', async () => {
    const cause = new Error('scraper crashed');
    const client = createResolverClient({ source: { resolve: () => Promise.reject(cause) } });
    await expect(client.resolve(frieren)).rejects.toMatchObject({ code: 'STRM_RESOLVER_UNAVAILABLE', cause });
  });

  it('a custom source that returns a non-http URL → STRM_RESOLVER_BAD_RESPONSE', async () => {
    const client = createResolverClient({ source: { resolve: async () => ({ url: 'file:///etc/passwd', headers: {} }) } });
    await expect(client.resolve(frieren)).rejects.toMatchObject({ code: 'STRM_RESOLVER_BAD_RESPONSE', message: expect.stringMatching(/"url" must be an absolute http\(s\) URL/) });
  });

  it('a store that fails: resolving goes on without it and store-error events are reported', async () => {
    const broken: ResolutionStore = {
      get: () => Promise.reject(new Error('redis down')),
      set: () => Promise.reject(new Error('redis down')),
      delete: () => Promise.reject(new Error('redis down')),
    };
    const { client, events, hits } = setup({ store: broken });
    await client.resolve(frieren);
    await client.resolve(frieren);
    expect(hits()).toBe(2);
    expect(types(events)).toEqual(['store-error', 'resolve', 'store-error', 'store-error', 'resolve', 'store-error']);
    await expect(client.invalidate(frieren)).rejects.toThrow('redis down');
  });

  it('an onEvent that throws does not break resolving', async () => {
    const { client } = setup({ onEvent: () => { throw new Error('metrics broke'); } });
    await expect(client.resolve(frieren)).resolves.toMatchObject({ refreshed: false });
  });
});

/**
 * One store shared by several clients, as several proxy replicas share Redis: a Map, and a
 * per-key mutex as `coordinate` (what a lock in Redis does across processes).
 */
function sharedStore() {
  const map = new Map<string, StoredResolution>();
  const tails = new Map<string, Promise<unknown>>();
  const counts = { coordinate: 0 };
  const store: ResolutionStore = {
    async get(key) { return map.has(key) ? structuredClone(map.get(key)) : undefined; },
    async set(key, value) { map.set(key, structuredClone(value)); },
    async delete(key) { map.delete(key); },
    coordinate<T>(key: string, run: () => Promise<T>): Promise<T> {
      counts.coordinate += 1;
      const previous = tails.get(key) ?? Promise.resolve();
      const result = previous.then(run, run);
      tails.set(key, result.catch(() => undefined));
      return result;
    },
  };
  return { store, counts };
}

describe('coordinate: a store shared by several processes', () => {
  it('3 clients on one coordinating store, 20 concurrent resolves each → 1 resolver call', async () => {
    const { store, counts } = sharedStore();
    const replicas = [setup({ store }), setup({ store }), setup({ store })];
    const release = fake.hold();
    const calls = replicas.flatMap(({ client }) => Array.from({ length: 20 }, () => client.resolve(frieren)));
    await fake.hitsReached(fake.hits + 1);
    release();
    const results = await Promise.all(calls);
    expect(replicas[0]!.hits()).toBe(1);
    expect(new Set(results.map((r) => r.resolution.url)).size).toBe(1);
    // One coordinated flight per client (the others share it in process); two found the entry.
    expect(counts.coordinate).toBe(3);
    expect(replicas.map(({ events }) => types(events).filter((t) => t === 'resolve').length).sort()).toEqual([0, 0, 1]);
  });

  it('a cache hit does not coordinate', async () => {
    const { store, counts } = sharedStore();
    const { client } = setup({ store });
    await client.resolve(frieren);
    await client.resolve(frieren);
    expect(counts.coordinate).toBe(1);
  });

  it('a refresh storm over 3 clients with the same stale URL → 1 refresh call; the others reuse it', async () => {
    const { store } = sharedStore();
    const replicas = [setup({ store }), setup({ store }), setup({ store })];
    const first = await replicas[0]!.client.resolve(frieren);
    const results = await Promise.all(replicas.flatMap(({ client }) => Array.from({ length: 10 }, () => client.resolve(frieren, { refresh: true, staleUrl: first.resolution.url }))));
    expect(replicas[0]!.hits()).toBe(2);
    expect(new Set(results.map((r) => r.resolution.url))).toEqual(new Set([replicas[0]!.url(2)]));
    expect((await replicas[2]!.client.resolve(frieren)).resolution.url).toBe(replicas[0]!.url(2));
  });

  it('the minimum refresh interval holds across clients: a refresh without staleUrl elsewhere reuses the last one', async () => {
    const { store } = sharedStore();
    const [a, b] = [setup({ store }), setup({ store })];
    await a.client.resolve(frieren, { refresh: true });
    b.clock.t = T0 + 4999;
    expect((await b.client.resolve(frieren, { refresh: true })).resolution.url).toBe(a.url(1));
    expect(b.events.at(-1)).toEqual({ type: 'refresh-reused', key: expect.any(String), reason: 'min-interval' });
    expect(a.hits()).toBe(1);
  });

  it('a coordinate that fails before running: the client runs the call itself and reports store-error', async () => {
    const { store: base } = sharedStore();
    const store: ResolutionStore = { ...base, coordinate: () => Promise.reject(new Error('lock service down')) };
    const { client, events, hits } = setup({ store });
    await expect(client.resolve(frieren)).resolves.toMatchObject({ refreshed: false });
    expect(hits()).toBe(1);
    expect(events.filter((e) => e.type === 'store-error')).toEqual([{ type: 'store-error', key: expect.any(String), operation: 'coordinate', error: new Error('lock service down') }]);
  });

  it('a coordinate that fails after running: the result of the run is the answer, the source is called once', async () => {
    const { store: base } = sharedStore();
    const store: ResolutionStore = {
      ...base,
      async coordinate(_key, run) {
        await run();
        throw new Error('release failed');
      },
    };
    const { client, events, hits } = setup({ store });
    await expect(client.resolve(frieren)).resolves.toMatchObject({ refreshed: false });
    expect(hits()).toBe(1);
    expect(types(events)).toEqual(['resolve']);
  });

  it('a coordinate that returns without running: the client runs the call itself', async () => {
    const { store: base } = sharedStore();
    const store = { ...base, coordinate: async () => undefined } as unknown as ResolutionStore;
    const { client, hits } = setup({ store });
    await expect(client.resolve(frieren)).resolves.toMatchObject({ refreshed: false });
    expect(hits()).toBe(1);
  });

  it('a failed call under coordinate is shared in process, not cached; the next call tries again', async () => {
    const { store } = sharedStore();
    fake.reply(() => ({ kind: 'status', status: 503 }));
    const { client, hits } = setup({ store });
    await expect(client.resolve(frieren)).rejects.toMatchObject({ code: 'STRM_RESOLVER_UNAVAILABLE' });
    fake.reply(defaultReply);
    await expect(client.resolve(frieren)).resolves.toMatchObject({ refreshed: false });
    expect(hits()).toBe(2);
  });
});

describe('listCached', () => {
  it('lists what the cache would serve, newest first, without refresh records or stale entries', async () => {
    const clock = { t: T0 };
    const source = { resolve: async (identity: EpisodeIdentity) => ({ url: `https://cdn.example/${identity.slug}?token=t${clock.t}`, headers: {}, provider: 'VOE', expiresAt: T0 + 600_000 }) };
    const client = createResolverClient({ source, now: () => clock.t, cacheTtlSeconds: 60, expiryMarginSeconds: 30 });
    await client.resolve(frieren);
    clock.t += 10_000;
    await client.resolve({ ...frieren, slug: 'x', provider: 'Doodstream' }, { refresh: true });
    const listed = await client.listCached();
    expect(listed?.map((entry) => [entry.identity, entry.stored.resolution.provider, entry.stored.refreshed, entry.freshUntil])).toEqual([
      [{ ...frieren, slug: 'x', provider: 'Doodstream' }, 'VOE', true, T0 + 70_000],
      [frieren, 'VOE', false, T0 + 60_000],
    ]);
    clock.t = T0 + 60_000;
    expect((await client.listCached())?.map((entry) => entry.identity.slug)).toEqual(['x']);
  });

  it('without a TTL or expiresAt an entry is listed with freshUntil undefined', async () => {
    const client = createResolverClient({ source: { resolve: async () => ({ url: 'https://cdn.example/a', headers: {} }) } });
    await client.resolve(frieren);
    expect(await client.listCached()).toEqual([{ identity: frieren, stored: expect.objectContaining({ refreshed: false }), freshUntil: undefined }]);
  });

  it('a store without entries() cannot be listed: undefined', async () => {
    const map = new Map<string, StoredResolution>();
    const store: ResolutionStore = { get: async (key) => map.get(key), set: async (key, value) => void map.set(key, value), delete: async (key) => void map.delete(key) };
    const client = createResolverClient({ source: { resolve: async () => ({ url: 'https://cdn.example/a', headers: {} }) }, store });
    await client.resolve(frieren);
    expect(await client.listCached()).toBeUndefined();
  });
});

describe('createResolverClient options', () => {
  const source = { resolve: async () => ({ url: 'https://cdn.example/a', headers: {} }) };
  it.each<[string, Record<string, unknown>, RegExp]>([
    ['no source', {}, /options.source must be an object with a resolve/],
    ['a store without delete', { source, store: { get: async () => undefined, set: async () => undefined } }, /options.store must be an object with get, set and delete/],
    ['a store whose coordinate is not a function', { source, store: { get: async () => undefined, set: async () => undefined, delete: async () => undefined, coordinate: 'lock' } }, /options.store.coordinate must be a function when present; received a value of type string/],
    ['a negative TTL', { source, cacheTtlSeconds: -1 }, /options.cacheTtlSeconds must be a finite, non-negative number; received -1/],
    ['a NaN margin', { source, expiryMarginSeconds: Number.NaN }, /options.expiryMarginSeconds .*received NaN/],
    ['a string interval', { source, minRefreshIntervalMs: '5000' }, /options.minRefreshIntervalMs/],
    ['a clock that is not a function', { source, now: 5 }, /options.now must be a function/],
  ])('createResolverClient(%s) throws a TypeError', (_name, options, message) => {
    expect(() => createResolverClient(options as never)).toThrow(TypeError);
    expect(() => createResolverClient(options as never)).toThrow(message);
  });

  it.each<[string, unknown, unknown, RegExp]>([
    ['an identity without slug', { ...frieren, slug: '' }, {}, /identity.slug must be a non-empty string/],
    ['a season as a string', { ...frieren, season: '1' }, {}, /identity.season must be a non-negative integer; received "1"/],
    ['refresh as a string', frieren, { refresh: 'yes' }, /options.refresh must be a boolean/],
    ['a staleUrl that is not a string', frieren, { refresh: true, staleUrl: 1 }, /options.staleUrl must be a string/],
  ])('resolve with %s throws a TypeError', async (_name, identity, options, message) => {
    const client = createResolverClient({ source });
    await expect(client.resolve(identity as EpisodeIdentity, options as never)).rejects.toThrow(message);
    await expect(client.resolve(identity as EpisodeIdentity, options as never)).rejects.toBeInstanceOf(TypeError);
  });
});
