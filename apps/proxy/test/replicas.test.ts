import { execFile } from 'node:child_process';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { request } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startRedisServer, watchRedisCommands, type RedisServer } from '../../../tools/testing/redis-server';
import { startControlledResolver, startReplicaProcess, type ControlledResolver } from './support/replicas';
import { fetchAll, mediaBytes, SECRET, serveBytes, startServer, startTestProxy, type TestProxy, type TestServer } from './support/servers';

// Several replicas of the proxy (same secret, each with its own connection to one real
// redis-server), one fake resolver that counts its calls, one fake CDN.

const bytes = mediaBytes(64 * 1024);
const lockKey = (slug: string) => `strm:v1:lock:${JSON.stringify(['aniworld.to', slug, 1, 1, 'German Dub', null])}`;
const isLockAttempt = (slug: string) => (args: string[]) => args[0] === 'set' && args[1] === lockKey(slug) && args.includes('NX');

/** The CDN: `/media/<slug>/v<n>.mp4`, where the versions listed in `expired` answer 403. */
function cdnHandler(expired: Set<string>) {
  return (req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://cdn').pathname;
    if (expired.has(path)) {
      res.writeHead(403, { 'content-type': 'text/plain' });
      res.end('token expired');
      return;
    }
    serveBytes(req, res, bytes);
  };
}

/** The first log line after this moment that matches (`waitForLog` also finds older ones). */
function nextLog(proxy: TestProxy, predicate: (line: Record<string, unknown>) => boolean) {
  const from = proxy.logs.length;
  return proxy.waitForLog((line) => proxy.logs.indexOf(line) >= from && predicate(line));
}

async function startReplicas(count: number, resolver: { origin: string }, redis: RedisServer): Promise<TestProxy[]> {
  const replicas = await Promise.all(Array.from({ length: count }, () => startTestProxy(resolver, { STRM_PROXY_REDIS_URL: redis.url })));
  await Promise.all(replicas.map((replica) => replica.waitForLog((line) => line.redis === 'up')));
  return replicas;
}

describe('three replicas on one Redis', () => {
  let redis: RedisServer;
  let cdn: TestServer;
  let resolver: ControlledResolver;
  let replicas: TestProxy[];
  const expired = new Set<string>();

  beforeAll(async () => {
    redis = await startRedisServer();
    cdn = await startServer(cdnHandler(expired));
    resolver = await startControlledResolver((slug, { count }) => `${cdn.origin}/media/${slug}/v${count}.mp4`);
    replicas = await startReplicas(3, resolver, redis);
  });
  afterAll(async () => {
    await Promise.all(replicas.map((replica) => replica.close(100)));
    await Promise.all([cdn.close(), resolver.close(), redis.stop()]);
  });

  it('60 concurrent requests for one episode spread over 3 replicas → exactly 1 resolver call', async () => {
    const watch = await watchRedisCommands(redis.port);
    // The resolver answers only once every replica has tried the lock: all three missed at once.
    const release = resolver.holdNext('burst');
    const responses = Promise.all(Array.from({ length: 60 }, (_, i) => fetchAll(replicas[i % 3]!.entryUrl('burst'))));
    await watch.seen(isLockAttempt('burst'), 3);
    watch.stop();
    release();
    const answered = await responses;
    expect(answered.map((r) => r.status)).toEqual(Array.from({ length: 60 }, () => 200));
    expect(answered.every((r) => r.body.equals(bytes))).toBe(true);
    expect(resolver.total('burst')).toBe(1);
  });

  it('a stale URL found on replica A → one re-resolution; B and C then serve the fresh URL without resolving', async () => {
    const [a, b, c] = replicas as [TestProxy, TestProxy, TestProxy];
    for (const replica of [a, b, c]) expect((await fetchAll(replica.entryUrl('stale'))).status).toBe(200);
    expect(resolver.calls.get('stale')).toEqual({ total: 1, refreshes: 0 });

    expired.add('/media/stale/v1.mp4');
    const refreshed = await fetchAll(a.entryUrl('stale'));
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.equals(bytes)).toBe(true);
    expect(resolver.calls.get('stale')).toEqual({ total: 2, refreshes: 1 });

    const cdnRequests = cdn.requests.length;
    for (const replica of [b, c]) expect((await fetchAll(replica.entryUrl('stale'))).status).toBe(200);
    expect(resolver.calls.get('stale')).toEqual({ total: 2, refreshes: 1 });
    // B and C went straight to the fresh URL, never to the expired one.
    expect(cdn.requests.slice(cdnRequests).map((r) => r.path)).toEqual(['/media/stale/v2.mp4', '/media/stale/v2.mp4']);
  });

  it('a failure storm across the 3 replicas (30 requests on an expired URL) → 1 refresh call', async () => {
    for (const replica of replicas) expect((await fetchAll(replica.entryUrl('storm'))).status).toBe(200);
    expired.add('/media/storm/v1.mp4');
    const watch = await watchRedisCommands(redis.port);
    // The refresh is answered only once every replica has found v1 stale and tried the lock.
    const release = resolver.holdNext('storm');
    const responses = Promise.all(Array.from({ length: 30 }, (_, i) => fetchAll(replicas[i % 3]!.entryUrl('storm'))));
    await watch.seen(isLockAttempt('storm'), 3);
    watch.stop();
    release();
    const answered = await responses;
    expect(answered.map((r) => r.status)).toEqual(Array.from({ length: 30 }, () => 200));
    expect(resolver.calls.get('storm')).toEqual({ total: 2, refreshes: 1 });
  });
});

describe('the lock holder dies mid-resolution', () => {
  let redis: RedisServer;
  let cdn: TestServer;
  let resolver: ControlledResolver;
  let replicas: TestProxy[] = [];

  beforeAll(async () => {
    redis = await startRedisServer();
    cdn = await startServer(cdnHandler(new Set()));
    resolver = await startControlledResolver((slug, { count }) => `${cdn.origin}/media/${slug}/v${count}.mp4`);
  });
  afterAll(async () => {
    await Promise.all(replicas.map((replica) => replica.close(100)));
    await Promise.all([cdn.close(), resolver.close(), redis.stop()]);
  });

  it('SIGKILL of the replica holding the lock → another replica resolves once the lock expires; no request hangs', async () => {
    const lockTtlMs = 1000;
    const holder = await startReplicaProcess({
      PORT: '0',
      HOST: '127.0.0.1',
      STRM_PROXY_SECRET: SECRET,
      STRM_RESOLVER_URL: resolver.origin,
      STRM_PROXY_UPSTREAM_ALLOWLIST: '127.0.0.1',
      STRM_PROXY_REDIS_URL: redis.url,
      TEST_LOCK_TTL_MS: String(lockTtlMs),
    });
    try {
      replicas = await startReplicas(2, resolver, redis);
      const watch = await watchRedisCommands(redis.port);
      resolver.holdNext('orphan');
      // The holder's request: its resolver call never answers, and the holder dies with it.
      const holderRequest = fetchAll(replicas[0]!.entryUrl('orphan').replace(replicas[0]!.url, holder.url)).catch((error: unknown) => error);
      await resolver.arrived('orphan', 1);
      expect(await redisGet(redis, lockKey('orphan'))).toMatch(/^[0-9a-f-]{36}$/);

      const started = performance.now();
      const timed = async (replica: TestProxy) => {
        const response = await fetchAll(replica.entryUrl('orphan'));
        return { status: response.status, ms: performance.now() - started, body: response.body };
      };
      const waiting = Promise.all(Array.from({ length: 10 }, (_, i) => timed(replicas[i % 2]!)));
      // Both replicas have tried the lock (and found it held) before the holder dies.
      await watch.seen(isLockAttempt('orphan'), 3);
      watch.stop();
      await holder.kill();
      expect(await holderRequest).toBeInstanceOf(Error);

      const answered = await waiting;
      expect(answered.map((r) => r.status)).toEqual(Array.from({ length: 10 }, () => 200));
      expect(answered.every((r) => r.body.equals(bytes))).toBe(true);
      expect(resolver.total('orphan')).toBe(2);
      // Bounded by the lock expiry plus a poll and a resolution, far below any client timeout.
      expect(Math.max(...answered.map((r) => r.ms))).toBeLessThan(lockTtlMs + 3000);
    } finally {
      await holder.kill();
    }
  }, 30_000);
});

/** GET through redis-cli (the test has no Redis client of its own). */
function redisGet(redis: RedisServer, key: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('redis-cli', ['-h', '127.0.0.1', '-p', String(redis.port), '--raw', 'GET', key], (error, stdout) => (error ? reject(error) : resolve(stdout.trim())));
  });
}

describe('Redis stops and comes back', () => {
  let redis: RedisServer;
  let cdn: TestServer;
  let resolver: ControlledResolver;
  let replicas: TestProxy[] = [];
  let releaseStream: () => void = () => undefined;

  beforeAll(async () => {
    redis = await startRedisServer();
    const streamGate = new Promise<void>((resolve) => {
      releaseStream = resolve;
    });
    cdn = await startServer(async (req, res) => {
      const path = new URL(req.url ?? '/', 'http://cdn').pathname;
      if (!path.startsWith('/media/long/')) {
        serveBytes(req, res, bytes);
        return;
      }
      // A long stream: half of it now, the rest when the test says so.
      res.writeHead(200, { 'content-type': 'video/mp4', 'content-length': String(bytes.length) });
      res.write(bytes.subarray(0, bytes.length / 2));
      await streamGate;
      res.end(bytes.subarray(bytes.length / 2));
    });
    resolver = await startControlledResolver((slug, { count }) => `${cdn.origin}/media/${slug}/v${count}.mp4`);
    replicas = await startReplicas(3, resolver, redis);
  });
  afterEach(() => releaseStream());
  afterAll(async () => {
    await Promise.all(replicas.map((replica) => replica.close(100)));
    await Promise.all([cdn.close(), resolver.close(), redis.stop()]);
  });

  it('streams continue, new requests are served locally, /readyz is degraded; after the restart sharing resumes', async () => {
    const [a, b, c] = replicas as [TestProxy, TestProxy, TestProxy];
    const stream = await request(a.entryUrl('long'));
    expect(stream.statusCode).toBe(200);
    const received: Buffer[] = [];
    const firstChunk = new Promise<void>((resolve) => stream.body.once('data', () => resolve()));
    stream.body.on('data', (chunk: Buffer) => received.push(chunk));
    const streamEnded = new Promise<void>((resolve) => stream.body.once('end', () => resolve()));
    await firstChunk;

    const downLogs = replicas.map((replica) => nextLog(replica, (line) => line.redis === 'down'));
    await redis.stop();
    const [downLine] = await Promise.all(downLogs);
    expect(downLine).toMatchObject({ level: 40, redis: 'down', code: 'STRM_REDIS_UNAVAILABLE' });

    // The running stream never needed Redis: it ends complete.
    releaseStream();
    await streamEnded;
    expect(Buffer.concat(received).equals(bytes)).toBe(true);

    // New requests: each replica resolves on its own.
    for (const replica of [a, b, c]) {
      const response = await fetchAll(replica.entryUrl('during'));
      expect(response.status).toBe(200);
      expect(response.body.equals(bytes)).toBe(true);
    }
    expect(resolver.total('during')).toBe(3);
    // Served again from each replica's local cache, without a call.
    expect((await fetchAll(b.entryUrl('during'))).status).toBe(200);
    expect(resolver.total('during')).toBe(3);

    const ready = await fetchAll(`${b.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(JSON.parse(ready.body.toString('utf8'))).toMatchObject({
      status: 'degraded',
      checks: expect.arrayContaining([expect.objectContaining({ name: 'redis', optional: true, ok: false, detail: expect.stringMatching(/^down, resolving locally: connection to Redis at 127\.0\.0\.1:\d+ lost/) })]),
    });
    const metrics = (await fetchAll(`${b.url}/metrics`)).body.toString('utf8');
    expect(metrics).toMatch(/^strm_redis_up 0$/m);
    expect(Number(/^strm_redis_fallbacks_total\{operation="get"\} (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThan(0);
    // Logged once per change, not per request.
    expect(b.logs.filter((line) => line.redis === 'down')).toHaveLength(1);

    const upLogs = replicas.map((replica) => nextLog(replica, (line) => line.redis === 'up'));
    await redis.restart();
    await Promise.all(upLogs);

    expect((await fetchAll(a.entryUrl('after'))).status).toBe(200);
    expect((await fetchAll(b.entryUrl('after'))).status).toBe(200);
    expect((await fetchAll(c.entryUrl('after'))).status).toBe(200);
    expect(resolver.total('after')).toBe(1);
    const readyAgain = JSON.parse((await fetchAll(`${b.url}/readyz`)).body.toString('utf8')) as { status: string };
    expect(readyAgain.status).toBe('ready');
    expect((await fetchAll(`${b.url}/metrics`)).body.toString('utf8')).toMatch(/^strm_redis_up 1$/m);
  }, 30_000);
});
