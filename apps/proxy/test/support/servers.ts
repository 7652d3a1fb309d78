import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Writable } from 'node:stream';
import { signedEntryUrl } from '@strm/signing';
import { request } from 'undici';
import { loadConfig } from '../../src/config';
import { createLogger } from '../../src/logger';
import { startProxy, type RunningProxy } from '../../src/server';

interface LoggedRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
}

export interface TestServer {
  origin: string;
  host: string;
  port: number;
  requests: LoggedRequest[];
  openSockets(): number;
  /** Resolves once `count` sockets have been closed by either side. */
  socketsClosed(count: number): Promise<void>;
  close(): Promise<void>;
}

/** A real HTTP server on a loopback address and port 0, logging what it is asked. */
export async function startServer(
  handler: (req: IncomingMessage, res: ServerResponse) => void | Promise<void>,
  host = '127.0.0.1',
): Promise<TestServer> {
  const requests: LoggedRequest[] = [];
  const sockets = new Set<Socket>();
  let closedCount = 0;
  const closeWaiters: Array<{ count: number; resolve: () => void }> = [];
  const server: Server = createServer((req, res) => {
    requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers });
    void Promise.resolve(handler(req, res)).catch(() => res.destroy());
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => {
      sockets.delete(socket);
      closedCount += 1;
      for (const waiter of closeWaiters.filter((w) => closedCount >= w.count)) waiter.resolve();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  const shown = host.includes(':') ? `[${host}]` : host;
  return {
    origin: `http://${shown}:${port}`,
    host,
    port,
    requests,
    openSockets: () => sockets.size,
    socketsClosed: (count) => new Promise((resolve) => {
      if (closedCount >= count) resolve();
      else closeWaiters.push({ count, resolve });
    }),
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/** Deterministic media bytes: byte i is a function of i, so any range can be checked. */
export function mediaBytes(size: number): Buffer {
  const bytes = Buffer.alloc(size);
  for (let i = 0; i < size; i += 1) bytes[i] = (i * 31 + (i >> 8)) & 0xff;
  return bytes;
}

/** Serves `bytes` with Range support the way a CDN does (single ranges, 416, strong ETag). */
export function serveBytes(req: IncomingMessage, res: ServerResponse, bytes: Buffer, options: { contentType?: string; etag?: string; ignoreRange?: boolean } = {}): void {
  const etag = options.etag ?? '"v1"';
  const headers: Record<string, string> = {
    'content-type': options.contentType ?? 'video/mp4',
    etag,
    'last-modified': 'Tue, 01 Sep 2026 10:00:00 GMT',
    server: 'test-origin',
    'set-cookie': 'session=abc',
    'access-control-allow-origin': 'https://evil.example',
  };
  const range = /^bytes=(\d*)-(\d*)$/.exec(String(req.headers.range ?? ''));
  const ifRange = req.headers['if-range'];
  if (range && !options.ignoreRange && (ifRange === undefined || ifRange === etag)) {
    let start: number;
    let end: number;
    if (range[1] === '') {
      start = Math.max(0, bytes.length - Number(range[2]));
      end = bytes.length - 1;
    } else {
      start = Number(range[1]);
      end = range[2] === '' ? bytes.length - 1 : Math.min(Number(range[2]), bytes.length - 1);
    }
    if (start >= bytes.length || start > end) {
      res.writeHead(416, { ...headers, 'content-range': `bytes */${bytes.length}` });
      res.end();
      return;
    }
    res.writeHead(206, { ...headers, 'accept-ranges': 'bytes', 'content-range': `bytes ${start}-${end}/${bytes.length}`, 'content-length': String(end - start + 1) });
    res.end(req.method === 'HEAD' ? undefined : bytes.subarray(start, end + 1));
    return;
  }
  res.writeHead(200, { ...headers, ...(options.ignoreRange ? {} : { 'accept-ranges': 'bytes' }), 'content-length': String(bytes.length) });
  res.end(req.method === 'HEAD' ? undefined : bytes);
}

export interface Episode {
  slug: string;
  season?: number;
  episode?: number;
  language?: string;
  /** The upstream URL to hand out; called again on every resolution (refresh included). */
  url: (call: { refresh: boolean; count: number }) => string;
  headers?: Record<string, string>;
}

export interface TestResolver extends TestServer {
  /** Resolver calls per slug, and how many had refresh=1. */
  calls: Map<string, { total: number; refreshes: number }>;
}

/** A resolver speaking the resolver contract (docs/contract.md, "Resolver") over real HTTP, counting its calls. */
export async function startResolver(episodes: Episode[]): Promise<TestResolver> {
  const calls = new Map<string, { total: number; refreshes: number }>();
  const server = await startServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://resolver');
    const slug = url.searchParams.get('slug') ?? '';
    const found = episodes.find((candidate) => candidate.slug === slug);
    if (url.pathname !== '/resolve' || !found) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end('{"error":"unknown"}');
      return;
    }
    const refresh = url.searchParams.get('refresh') === '1';
    const count = calls.get(slug) ?? { total: 0, refreshes: 0 };
    count.total += 1;
    if (refresh) count.refreshes += 1;
    calls.set(slug, count);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ url: found.url({ refresh, count: count.total }), ...(found.headers ? { headers: found.headers } : {}) }));
  });
  return Object.assign(server, { calls });
}

export const SECRET = 'test-secret-0123456789';

export interface TestProxy extends RunningProxy {
  logs: Array<Record<string, unknown>>;
  /** Resolves with the first log line (already written or still to come) that matches. */
  waitForLog(predicate: (line: Record<string, unknown>) => boolean): Promise<Record<string, unknown>>;
  /** A signed entry URL for an episode of the test resolver. */
  entryUrl(slug: string, extra?: Record<string, string | number>): string;
}

/** The real proxy, configured like an operator would, on 127.0.0.1 port 0, logging into memory. */
export async function startTestProxy(resolver: { origin: string }, env: Record<string, string> = {}): Promise<TestProxy> {
  const logs: Array<Record<string, unknown>> = [];
  const waiters: Array<{ predicate: (line: Record<string, unknown>) => boolean; resolve: (line: Record<string, unknown>) => void }> = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const text of chunk.toString('utf8').split('\n')) {
        if (text === '') continue;
        const line = JSON.parse(text) as Record<string, unknown>;
        logs.push(line);
        for (const waiter of waiters.filter((w) => w.predicate(line))) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve(line);
        }
      }
      callback();
    },
  });
  const waitForLog = (predicate: (line: Record<string, unknown>) => boolean) =>
    new Promise<Record<string, unknown>>((resolve) => {
      const found = logs.find(predicate);
      if (found) resolve(found);
      else waiters.push({ predicate, resolve });
    });
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    STRM_PROXY_SECRET: SECRET,
    STRM_RESOLVER_URL: resolver.origin,
    STRM_PROXY_UPSTREAM_ALLOWLIST: '127.0.0.1',
    STRM_PROXY_UPSTREAM_TIMEOUT_MS: '2000',
    LOG_LEVEL: 'info',
    ...env,
  });
  const proxy = await startProxy(config, { logger: createLogger(config.logLevel, sink) });
  return Object.assign(proxy, {
    logs,
    waitForLog,
    entryUrl: (slug: string, extra: Record<string, string | number> = {}) =>
      signedEntryUrl(`${proxy.url}/strm/stream`, { site: 'aniworld.to', slug, s: 1, e: 1, lang: 'German Dub', ...extra }, SECRET),
  });
}

/** GET (or HEAD) with undici, the whole body read. */
export async function fetchAll(url: string, options: { method?: 'GET' | 'HEAD'; headers?: Record<string, string> } = {}) {
  const response = await request(url, { method: options.method ?? 'GET', headers: options.headers ?? {} });
  const body = Buffer.from(await response.body.arrayBuffer());
  return { status: response.statusCode, headers: response.headers, body, json: () => JSON.parse(body.toString('utf8')) as { error: { code: string; message: string } } };
}

/**
 * GET with the request target sent exactly as written: absolute-form, `*` and dot segments
 * included (undici and `URL` would normalize them).
 */
export function rawGet(base: string, target: string): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: hostname, port, path: target, method: 'GET' }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}
