import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createResolverClient, type EpochMilliseconds, type ResolutionSource, type ResolutionStore, type ResolverClient } from '@strm/resolver-client';
import type { Logger } from 'pino';
import { request } from 'undici';
import { TargetDurations } from './delivery-directives';
import { SealTimes } from './seal-times';
import type { LookupFunction } from './address-guard';
import { answerClientError, refuseConnect } from './client-errors';
import { configWarnings, type ProxyConfig } from './config';
import { guardHeaderDeadline } from './header-deadline';
import { createLogger } from './logger';
import { createMetrics, type ProxyMetrics } from './metrics';
import type { ReadinessCheck } from './ops-endpoints';
import { Relocator, RenditionLinks } from './playlist-links';
import type { ProxyRedis, ProxyRedisOptions } from './redis';
import { createConfiguredSource } from './resolver-source';
import { createProxyApp, expressServerClasses } from './router';
import type { ProxyRuntime } from './runtime';
import { StatusBoard } from './status-board';
import { createStatusPage } from './status-page';
import { createProxyTokens } from './tokens';
import { createUpstreamFetcher, type UpstreamFetcher } from './upstream';

/** Idle time of a kept-alive client connection, and the time a client has to send a request head. */
const KEEP_ALIVE_MS = 65_000;
const HEADERS_TIMEOUT_MS = 30_000;

export interface StartProxyOptions {
  logger?: Logger;
  /** A resolver source other than the configured one (the demo and tests use a static one). */
  source?: ResolutionSource;
  /** A shared resolution store (several replicas); in-memory when absent. */
  store?: ResolutionStore;
  /** DNS lookup of upstream hosts (tests map names to loopback addresses). */
  lookup?: LookupFunction;
  /** Tuning of the Redis store made for `STRM_PROXY_REDIS_URL` (tests shorten its lock). */
  redis?: ProxyRedisOptions;
  /** Extra `/readyz` checks. */
  readiness?: readonly ReadinessCheck[];
  now?: () => EpochMilliseconds;
  /** How long a client may take to send its request headers, and how often that is checked (tests shorten both). */
  headersTimeout?: { ms: number; checkEveryMs: number };
}

export interface RunningProxy {
  /** `http://host:port`, with the address actually bound. */
  url: string;
  port: number;
  server: Server;
  runtime: ProxyRuntime;
  /** Stops accepting, lets running responses finish for up to `graceMs`, then cuts the rest. */
  close(graceMs?: number): Promise<void>;
}

function resolverReachable(baseUrl: string): ReadinessCheck {
  return {
    name: 'resolver',
    async check() {
      // Any HTTP answer proves the resolver is up; only a connection failure or a timeout does not.
      const response = await request(baseUrl, { method: 'GET', headersTimeout: 2000, bodyTimeout: 2000, signal: AbortSignal.timeout(3000) });
      await response.body.dump();
      return { ok: true, detail: `answered ${response.statusCode}` };
    },
  };
}

/** The resolver client of one proxy, counting its outcomes in the proxy's metrics and logging its failures. */
function createResolver(
  config: ProxyConfig,
  deps: { source: ResolutionSource; store: ResolutionStore | undefined; metrics: ProxyMetrics; logger: Logger; now: () => EpochMilliseconds },
): ResolverClient {
  const { metrics, logger } = deps;
  return createResolverClient({
    source: deps.source,
    ...(deps.store ? { store: deps.store } : {}),
    cacheTtlSeconds: config.cacheTtlSeconds,
    minRefreshIntervalMs: config.resolverMinRefreshMs,
    now: deps.now,
    onEvent: (event) => {
      if (event.type === 'cache-hit') metrics.resolverCacheHits.inc();
      else if (event.type === 'resolve' || event.type === 'refresh') metrics.resolverCalls.inc({ outcome: 'ok' });
      else if (event.type === 'error') {
        metrics.resolverCalls.inc({ outcome: 'error' });
        // The message names the episode and, for a command, its last error line (redacted by the source).
        logger.warn({ code: event.error.code, refresh: event.refresh, durationMs: event.durationMs }, event.error.message);
      }
    },
  });
}

/** What every request handler shares: secrets, token sealer, resolver, the way out, metrics. */
function createRuntime(config: ProxyConfig, deps: { resolver: ResolverClient; metrics: ProxyMetrics; now: () => EpochMilliseconds; lookup: LookupFunction | undefined }): ProxyRuntime {
  const { resolver, metrics } = deps;
  // With auth "none" and no secret, tokens are sealed with a key of this process only.
  const secret = config.secret ?? randomBytes(32).toString('base64url');
  const upstream = createUpstreamFetcher({
    allowlist: config.upstreamAllowlist,
    timeoutMs: config.upstreamTimeoutMs,
    connectionsPerOrigin: config.upstreamConnections,
    ...(deps.lookup ? { lookup: deps.lookup } : {}),
  });
  return {
    config,
    secrets: config.secret !== undefined ? [config.secret, ...config.previousSecrets] : [],
    tokens: createProxyTokens({ secret, previousSecrets: config.previousSecrets, ttlSeconds: config.tokenTtlSeconds }),
    resolver,
    upstream,
    relocator: new Relocator({ upstream, metrics, resolver }),
    targetDurations: new TargetDurations(),
    renditions: new RenditionLinks(),
    sealTimes: new SealTimes(config.tokenTtlSeconds),
    metrics,
    now: deps.now,
  };
}

/** Listens on the configured address; resolves with the URL actually bound. */
async function listen(server: Server, config: ProxyConfig): Promise<{ url: string; port: number }> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return { url: `http://${host}:${address.port}`, port: address.port };
}

/**
 * Graceful shutdown: stop accepting, close each connection once its response is done, cut what
 * still runs after `graceMs`, then release the upstream pool and Redis.
 */
function gracefulCloser(server: Server, resources: { upstream: UpstreamFetcher; redis: ProxyRedis | undefined }): (graceMs?: number) => Promise<void> {
  let closing: Promise<void> | undefined;
  const closeIdle = () => server.closeIdleConnections();
  // One listener for every response, not a closure per request ('close' comes once per response).
  const onResponseClose = () => {
    if (closing !== undefined) setImmediate(closeIdle);
  };
  server.on('request', (_req, res) => res.on('close', onResponseClose));
  return (graceMs = 10_000) => {
    closing ??= (async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const timer = setTimeout(() => server.closeAllConnections(), graceMs);
      await closed;
      clearTimeout(timer);
      await resources.upstream.close();
      await resources.redis?.close();
    })();
    return closing;
  };
}

/**
 * Asks the resolver once at start, without holding the start up: a proxy whose resolver does not
 * answer would otherwise look healthy until the first episode fails.
 */
function warnIfResolverSilent(check: ReadinessCheck, resolverUrl: string, logger: Logger): void {
  const resolver = new URL(resolverUrl).origin;
  check.check().then(
    (result) => logger.info({ resolver, detail: result.detail }, 'the resolver answers'),
    (error: Error & { code?: string }) => {
      logger.warn({ resolver, cause: error.code ?? error.message }, 'the resolver does not answer: episodes will fail with STRM_RESOLVER_FAILED until it does');
    },
  );
}

/**
 * Builds and starts one proxy from a validated configuration.
 *
 * @example
 * const proxy = await startProxy(loadConfig(process.env));
 * console.log(proxy.url); // http://0.0.0.0:8080
 */
export async function startProxy(config: ProxyConfig, options: StartProxyOptions = {}): Promise<RunningProxy> {
  const logger = options.logger ?? createLogger(config.logLevel);
  const now = options.now ?? Date.now;
  const metrics = createMetrics();
  const source = options.source ?? (await createConfiguredSource(config)).source;
  const redis = options.store === undefined && config.redisUrl !== undefined
    // Loaded only when configured: the Redis client costs a replica without Redis ~10 MB of memory.
    ? await (await import('./redis')).createProxyRedis(config.redisUrl, { logger, registry: metrics.registry, ...(options.redis ? { options: options.redis } : {}) })
    : undefined;
  const resolver = createResolver(config, { source, store: options.store ?? redis?.store, metrics, logger, now });
  const runtime = createRuntime(config, { resolver, metrics, now, lookup: options.lookup });
  const readiness: ReadinessCheck[] = [...(options.readiness ?? [])];
  if (options.source === undefined && config.resolverUrl !== undefined) readiness.unshift(resolverReachable(config.resolverUrl));
  if (redis !== undefined) readiness.push(redis.readiness);

  // The board runs whether or not the page is on: it also keeps strm_active_streams current.
  const board = new StatusBoard({ now, onActiveChange: (active) => metrics.activeStreams.set(active) });
  const statusPage = createStatusPage({
    config,
    secrets: runtime.secrets,
    board,
    resolver,
    ...(redis !== undefined ? { redis: redis.status } : {}),
    now,
    startedAt: now(),
  });
  const listener = createProxyApp({ runtime, logger, readiness, board, statusPage });
  // Node's own header and request timeouts are off: they are wall-clock time, and a stalled event
  // loop made them fail requests that had arrived in time. The guard counts the time the loop ran
  // (header-deadline.ts) and answers a late head like the parser's refusals.
  // No Host and unknown expectations reach the app too, for a JSON answer (client-errors.ts): Node
  // would answer an empty 400 or 417 itself. An expectation other than 100-continue is ignored.
  const server = createServer({ keepAliveTimeout: KEEP_ALIVE_MS, headersTimeout: 0, requestTimeout: 0, requireHostHeader: false, ...expressServerClasses(listener) }, listener);
  server.on('checkExpectation', listener);
  // Requests Node's parser refuses, and CONNECT, get the proxy's JSON answer too (client-errors.ts).
  const answerClient = answerClientError(logger);
  server.on('clientError', answerClient);
  server.on('connect', refuseConnect(logger));
  const stopHeaderGuard = guardHeaderDeadline(server, {
    timeoutMs: options.headersTimeout?.ms ?? HEADERS_TIMEOUT_MS,
    keepAliveMs: KEEP_ALIVE_MS,
    ...(options.headersTimeout ? { tickMs: options.headersTimeout.checkEveryMs } : {}),
    expire: (socket) => answerClient(Object.assign(new Error('the request head did not arrive in time'), { code: 'ERR_HTTP_REQUEST_TIMEOUT' }), socket),
  });
  server.once('close', stopHeaderGuard);
  const { url, port } = await listen(server, config);
  for (const warning of configWarnings(config)) logger.warn(warning);
  if (options.source === undefined && config.resolverUrl !== undefined) warnIfResolverSilent(readiness[0]!, config.resolverUrl, logger);
  logger.info({ url, auth: config.auth, resolver: config.resolverFile ? 'file' : config.resolverCommand ? 'command' : 'http' }, 'strm-proxy listening');
  return { url, port, server, runtime, close: gracefulCloser(server, { upstream: runtime.upstream, redis }) };
}
