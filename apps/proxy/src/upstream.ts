import type { Socket } from 'node:net';
import { Agent, errors as undiciErrors, type buildConnector, type Dispatcher } from 'undici';
import { createGuardedConnector, UpstreamAllowlist, UpstreamRefusedError, type LookupFunction } from './address-guard';
import type { UpstreamAbort } from './client-abort';

/** Client request headers that are forwarded to the upstream (docs/contract.md, "Forwarded headers"). */
const FORWARDED_CLIENT_HEADERS = ['range', 'if-range', 'if-none-match', 'if-modified-since'] as const;

/** Upstream response headers passed to the client; nothing else of the upstream's (docs/contract.md, "Forwarded headers"). */
const PASSED_RESPONSE_HEADERS = [
  'content-type',
  'content-length',
  'content-range',
  'accept-ranges',
  'etag',
  'last-modified',
  'content-disposition',
] as const;

// Never sent upstream, whoever asks: hop-by-hop headers, the client's credentials, Host.
const NEVER_FORWARDED = new Set([
  'host', 'connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade',
  'proxy-authorization', 'proxy-authenticate', 'content-length', 'expect',
]);

/** Headers that must not follow a redirect to another origin. */
const ORIGIN_BOUND_HEADERS = ['cookie', 'authorization'];

export type HeaderBag = Record<string, string | string[] | undefined>;

/**
 * The headers of one upstream request: the resolver's headers (Referer, Origin, User-Agent,
 * Cookie...) plus the client's conditional and range headers. Keys are lower case.
 */
export function upstreamRequestHeaders(
  resolverHeaders: Readonly<Record<string, string>> | undefined,
  client: { range?: string | undefined; 'if-range'?: string | undefined; 'if-none-match'?: string | undefined; 'if-modified-since'?: string | undefined },
): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(resolverHeaders ?? {})) {
    const lower = name.toLowerCase();
    if (!NEVER_FORWARDED.has(lower)) headers[lower] = value;
  }
  for (const name of FORWARDED_CLIENT_HEADERS) {
    const value = client[name];
    if (typeof value === 'string' && value !== '') headers[name] = value;
  }
  return headers;
}

/** The upstream response headers the client may see. */
export function passedResponseHeaders(upstream: HeaderBag): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const name of PASSED_RESPONSE_HEADERS) {
    const value = upstream[name];
    if (typeof value === 'string') headers[name] = value;
  }
  return headers;
}

export type UpstreamFailureKind = 'timeout' | 'network' | 'refused';

/** Where a timeout struck: while connecting, or waiting for the response headers. */
export type UpstreamTimeoutPhase = 'connect' | 'headers';

/** What a client is told of each kind of failure: nothing of the upstream's host, port or path. */
const PUBLIC_MESSAGES: Readonly<Record<UpstreamFailureKind, string>> = {
  timeout: 'the upstream did not answer in time',
  network: 'the upstream could not be reached',
  refused: 'the proxy does not connect to this upstream',
};

/** A Node or undici error code (`ECONNREFUSED`, `UND_ERR_SOCKET`): a fixed word, never a host or a path. */
function errorCodeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && /^[A-Z][A-Z0-9_]{1,40}$/.test(code) ? code : undefined;
}

/**
 * The upstream could not be reached or did not answer in time. `message` names the host, for the
 * log; `publicMessage` is what a client may be told.
 */
export class UpstreamFetchError extends Error {
  readonly kind: UpstreamFailureKind;
  /** The upstream host (`name:port`, never a path or query), for the failure log. */
  readonly host: string | undefined;
  readonly phase: UpstreamTimeoutPhase | undefined;
  readonly publicMessage: string;
  constructor(kind: UpstreamFailureKind, message: string, options: { cause?: unknown; host?: string; phase?: UpstreamTimeoutPhase; publicMessage?: string } = {}) {
    super(message, options.cause === undefined ? {} : { cause: options.cause });
    this.name = 'UpstreamFetchError';
    this.kind = kind;
    this.host = options.host;
    this.phase = options.phase;
    this.publicMessage = options.publicMessage ?? PUBLIC_MESSAGES[kind];
  }
}

export interface UpstreamResponse {
  /** The URL that finally answered, after redirects: the base of a playlist's relative URIs. */
  url: URL;
  status: number;
  headers: HeaderBag;
  body: Dispatcher.ResponseData['body'];
}

export interface UpstreamOptions {
  allowlist: readonly string[];
  /** Connect + time to the response headers. */
  timeoutMs: number;
  /** Longest pause between two body chunks. */
  bodyIdleTimeoutMs?: number;
  /**
   * Concurrent connections per upstream origin (`STRM_PROXY_UPSTREAM_CONNECTIONS`). A stream holds
   * its connection for as long as it plays, so this is also the number of viewers one CDN host can
   * serve at once; a request beyond it waits for a free connection. Default 1024.
   */
  connectionsPerOrigin?: number;
  lookup?: LookupFunction;
  maxRedirects?: number;
}

export interface UpstreamFetcher {
  /**
   * `timeoutMs` replaces the configured time to the response headers, and is the least idle time
   * allowed in its body, for a request the origin may hold on purpose (a blocking playlist reload).
   */
  fetch(request: { url: string | URL; method: 'GET' | 'HEAD'; headers: Record<string, string>; signal?: UpstreamAbort; timeoutMs?: number }): Promise<UpstreamResponse>;
  close(): Promise<void>;
}

const ignoreError = () => {};

function describeHost(url: URL): string {
  return url.host;
}

function classifyFailure(error: unknown, url: URL): UpstreamFetchError {
  if (error instanceof UpstreamFetchError) return error;
  const host = describeHost(url);
  if (error instanceof UpstreamRefusedError) {
    // The class of the address says why without saying where.
    const publicMessage = error.addressClass === undefined
      ? 'the upstream host has no address'
      : `the upstream resolves to a ${error.addressClass} address, which the proxy refuses (STRM_PROXY_UPSTREAM_ALLOWLIST allows it if it is yours)`;
    return new UpstreamFetchError('refused', error.message, { cause: error, host, publicMessage });
  }
  if (error instanceof undiciErrors.HeadersTimeoutError || error instanceof undiciErrors.ConnectTimeoutError) {
    const phase = error instanceof undiciErrors.ConnectTimeoutError ? 'connect' : 'headers';
    return new UpstreamFetchError('timeout', `the upstream ${host} did not answer in time`, { cause: error, host, phase });
  }
  const code = errorCodeOf(error);
  return new UpstreamFetchError('network', `the upstream ${host} could not be reached (${code ?? 'unknown'})`, {
    cause: error,
    host,
    publicMessage: `${PUBLIC_MESSAGES.network}${code === undefined ? '' : ` (${code})`}`,
  });
}

/** A redirect that cannot be followed; its message names no host, so the client may read it. */
function redirectFailure(message: string, url: URL, cause?: unknown): UpstreamFetchError {
  return new UpstreamFetchError('network', message, { host: url.host, publicMessage: message, ...(cause !== undefined ? { cause } : {}) });
}

/** What the pool's connector answers when undici asks for a connection nobody will use. */
class NeedlessReconnectError extends Error {
  readonly code = 'STRM_NEEDLESS_RECONNECT';
  constructor() {
    super('no connection is opened for a request that was aborted');
    this.name = 'NeedlessReconnectError';
  }
}

/** undici closes the socket of a response it aborts with this error (and only that one). */
function closedByAbort(socket: Socket): boolean {
  const error = socket.errored;
  return error instanceof undiciErrors.InformationalError && error.message === 'aborted';
}

/**
 * Refuses the one connection undici 7 asks for after it aborts a response: the aborted request
 * goes back to the pending side of its client's queue when the socket closes, the client
 * connects again for it, finds it aborted and leaves the fresh socket idle in the pool
 * (nodejs/undici#5845). That connect is asked synchronously while undici handles the close of
 * the aborted socket: a listener placed before undici's marks the moment, one placed after it
 * ends it, so no other connect is ever refused. The refusal empties the client's queue; no socket
 * is opened.
 *
 * The refusal is answered on the next tick, not inside the connect call: undici asks for the
 * connection from its resume loop, which ignores a resume asked from within it, so a refusal
 * answered at once left the client without its last look at its queue, and its `close()` (what
 * a shutdown awaits) never settled.
 *
 * No refusal while requests wait in a pool's queue (`queued()`, at the connection cap): a refused
 * client leaves its pool, which hands it no waiting request (the viewer waited for good) or, once
 * it drains, hands them to a client it no longer counts (past the cap). The connection is made,
 * the client finds the aborted request gone, and the first waiting request takes it.
 */
function withoutReconnectAfterAbort(connect: buildConnector.connector, queued: () => boolean): buildConnector.connector {
  let abortedSocketClosing = false;
  return (options, callback) => {
    if (abortedSocketClosing && !queued()) {
      abortedSocketClosing = false;
      process.nextTick(callback, new NeedlessReconnectError(), null);
      return;
    }
    connect(options, (...args) => {
      const socket = args[1];
      // undici's own connector calls back with the error alone: no socket, not even a null one.
      if (!socket) {
        callback(...args);
        return;
      }
      socket.once('close', () => {
        abortedSocketClosing = closedByAbort(socket);
      });
      callback(...args); // undici places its own 'close' listener here, after the one above
      socket.once('close', () => {
        abortedSocketClosing = false;
      });
    });
  };
}

/** The keep-alive pool of every upstream request: guarded connections, bounded per origin. */
function createUpstreamAgent(options: UpstreamOptions): Agent {
  const allowlist = new UpstreamAllowlist(options.allowlist);
  const connector = createGuardedConnector({ allowlist, timeoutMs: options.timeoutMs, ...(options.lookup ? { lookup: options.lookup } : {}) });
  // Read only when an aborted socket closes: `stats` has every origin's pool.
  const queued = () => Object.values(agent.stats).some((pool) => 'queued' in pool && pool.queued > 0);
  const agent: Agent = new Agent({
    connect: withoutReconnectAfterAbort(connector, queued),
    // Bounded (docs/contract.md, "Limits"), but above what one proxy streams at once: with 64 the 65th viewer of
    // a CDN host waited, headers and all, until another stream ended; with 512 the bench's 1,000 slow
    // viewers were not all served.
    connections: options.connectionsPerOrigin ?? 1024,
    headersTimeout: options.timeoutMs,
    bodyTimeout: options.bodyIdleTimeoutMs ?? 30_000,
    keepAliveTimeout: 10_000,
    maxHeaderSize: 64 * 1024,
  });
  return agent;
}

/**
 * The proxy's only way out: a pooled keep-alive undici agent whose every connection, redirect hops
 * included, goes through the private-address guard. Redirects are followed here (not by undici)
 * so that the final URL is known, `Cookie`/`Authorization` are dropped across origins, and only
 * http(s) targets are followed.
 */
export function createUpstreamFetcher(options: UpstreamOptions): UpstreamFetcher {
  const agent = createUpstreamAgent(options);
  const maxRedirects = options.maxRedirects ?? 5;

  /**
   * One request to one URL, its failure classified. Not an `async` function: a request waits on
   * its upstream for most of its life under load, and a suspended frame here would be one more
   * object kept alive for each request in flight.
   */
  function requestOnce(url: URL, method: 'GET' | 'HEAD', headers: Record<string, string>, signal?: UpstreamAbort, timeoutMs?: number): Promise<Dispatcher.ResponseData> {
    const request: Dispatcher.RequestOptions = {
      origin: url.origin,
      path: `${url.pathname}${url.search}`,
      method,
      headers,
      // What undici reads ahead of a slow client, per stream: 64 KiB (a slow stream's socket
      // read, upstream-reads.ts), not 256, so 100 paused viewers hold ~20 MB less; a fast client
      // never waits on it.
      highWaterMark: 64 * 1024,
    };
    if (signal !== undefined) request.signal = signal;
    if (timeoutMs !== undefined) {
      request.headersTimeout = timeoutMs;
      request.bodyTimeout = Math.max(options.bodyIdleTimeoutMs ?? 30_000, timeoutMs);
    }
    return agent.request(request).catch((error: unknown) => {
      throw signal?.aborted === true ? error : classifyFailure(error, url);
    });
  }

  return {
    async fetch({ url: start, method, headers, signal, timeoutMs }) {
      let url = new URL(start);
      let currentHeaders = headers;
      for (let hop = 0; ; hop += 1) {
        if (url.protocol !== 'http:' && url.protocol !== 'https:') {
          throw new UpstreamFetchError('refused', `the upstream URL scheme ${url.protocol} is not http(s)`, { host: url.host, publicMessage: 'the upstream URL (or a redirect) is not http(s)' });
        }
        // undici would dispatch it, connect, then abort (nodejs/undici#386): a connection for nobody.
        signal?.throwIfAborted();
        const response = await requestOnce(url, method, currentHeaders, signal, timeoutMs);
        const location = response.headers.location;
        // A body's 'error' with no listener would crash the process; whoever reads the body
        // (pumpBody, for await) still sees the error through its own listener.
        response.body.on('error', ignoreError);
        if (![301, 302, 303, 307, 308].includes(response.statusCode) || typeof location !== 'string') {
          return { url, status: response.statusCode, headers: response.headers, body: response.body };
        }
        await response.body.dump();
        if (hop >= maxRedirects) throw redirectFailure(`the upstream redirected more than ${maxRedirects} times`, url);
        let next: URL;
        try {
          next = new URL(location, url);
        } catch (error) {
          throw redirectFailure('the upstream redirected to an invalid URL', url, error);
        }
        if (next.origin !== url.origin) {
          currentHeaders = { ...currentHeaders };
          for (const name of ORIGIN_BOUND_HEADERS) delete currentHeaders[name];
        }
        url = next;
      }
    },
    close: () => agent.close(),
  };
}
