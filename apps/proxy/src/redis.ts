import type { RedisResolutionStore, RedisStoreOptions } from '@strm/resolver-store-redis';
import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { ReadinessCheck } from './ops-endpoints';

/** Tuning of the shared store (tests use short locks); the URL and the callbacks come from the proxy. */
export type ProxyRedisOptions = Omit<RedisStoreOptions, 'url' | 'onStateChange' | 'onFallback'>;

/** The shared store's state as the status page shows it: never the URL (it may hold a password). */
export interface RedisStatus {
  state: 'connecting' | 'up' | 'down';
  /** `host:port`. */
  target: string;
  /** When the state last changed (ISO 8601). */
  since: string;
  /** Why Redis is down, while it is. */
  problem: string | null;
}

/** The shared resolution store of one replica, with what the proxy exposes about it. */
export interface ProxyRedis {
  store: RedisResolutionStore;
  /** For the status page. */
  status(): RedisStatus;
  /** `/readyz` check `redis`, optional: when it fails the replica is `degraded`, still serving. */
  readiness: ReadinessCheck;
  close(): Promise<void>;
}

/**
 * Connects this replica to the Redis named by `STRM_PROXY_REDIS_URL`: resolutions, refresh records
 * and single-flight are shared with every replica on the same Redis. Redis down or slow never
 * stops playback: the store falls back to a local cache and resolving without the lock; this
 * logs once per change (not per request) and exposes `strm_redis_up` and
 * `strm_redis_fallbacks_total`. The Redis client is imported here, when a replica is configured
 * with Redis: a dynamic import of a package stays one in the compiled dist (a local module's would
 * be inlined), so a proxy without Redis never loads it.
 *
 * @example
 * const redis = await createProxyRedis(config.redisUrl, { logger, registry: metrics.registry });
 * createResolverClient({ source, store: redis.store });
 */
export async function createProxyRedis(url: string, context: { logger: Logger; registry: Registry; options?: ProxyRedisOptions }): Promise<ProxyRedis> {
  const { createRedisStore } = await import('@strm/resolver-store-redis');
  const { logger, registry } = context;
  const up = new Gauge({ name: 'strm_redis_up', help: '1 while the shared resolution store (Redis) answers, 0 while this replica works on its local cache', registers: [registry] });
  const fallbacks = new Counter({ name: 'strm_redis_fallbacks_total', help: 'Store operations served without Redis (local cache, or resolving without the lock), by operation', labelNames: ['operation'], registers: [registry] });
  up.set(0);
  let lastProblem = '';
  let since = Date.now();
  const target = `${new URL(url).hostname}:${new URL(url).port || '6379'}`;
  const store = createRedisStore({
    ...context.options,
    url,
    onStateChange: (change) => {
      since = Date.now();
      if (change.state === 'up') {
        up.set(1);
        lastProblem = '';
        logger.info({ redis: 'up' }, 'redis connected: resolutions are shared with the other replicas');
      } else {
        up.set(0);
        lastProblem = change.error.message;
        logger.warn({ redis: 'down', code: change.error.code, reason: change.error.message }, 'redis unavailable: this replica resolves on its own until it returns');
      }
    },
    onFallback: (operation) => fallbacks.inc({ operation }),
  });
  return {
    store,
    readiness: {
      name: 'redis',
      optional: true,
      async check() {
        if (store.state === 'up') return { ok: true, detail: 'shared' };
        return { ok: false, detail: store.state === 'connecting' ? 'connecting' : `down, resolving locally: ${lastProblem}` };
      },
    },
    status: () => ({ state: store.state, target, since: new Date(since).toISOString(), problem: store.state === 'down' ? lastProblem : null }),
    close: () => store.close(),
  };
}
