import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { Writable } from 'node:stream';
import { signedEntryUrl } from '@strm/signing';
import { request } from 'undici';
import { loadConfig } from '../../src/config';
import { createLogger } from '../../src/logger';
import { startProxy, type RunningProxy, type StartProxyOptions } from '../../src/server';

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
  /** Connections accepted so far (the server's 'connection' events). */
  connections(): number;
  /** Resolves once `count` sockets have been closed by either side. */
  socketsClosed(count: number): Promise<void>;
  close(): Promise<void>;
}

/** A real HTTP server on a loopback address and port 0, logging what it is asked. */
export async function startServer(
  handler: (req: IncomingMessage, res: ServerResponse) => void | Promise<void>,
  host = '127.0.0.1',
  /** 0 (any free port) unless a test needs a second origin on the same port at another address. */
  port = 0,
): Promise<TestServer> {
  const requests: LoggedRequest[] = [];
  const sockets = new Set<Socket>();
  let closedCount = 0;
  const closeWaiters: Array<{ count: number; resolve: () => void }> = [];
  const server: Server = createServer((req, res) => {
    requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers });
    void Promise.resolve(handler(req, res)).catch(() => res.destroy());
  });
  let accepted = 0;
  server.on('connection', (socket) => {
    accepted += 1;
    sockets.add(socket);
    socket.once('close', () => {
      sockets.delete(socket);
      closedCount += 1;
      for (const waiter of closeWaiters.filter((w) => closedCount >= w.count)) waiter.resolve();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  const bound = (server.address() as AddressInfo).port;
  const shown = host.includes(':') ? `[${host}]` : host;
  return {
    origin: `http://${shown}:${bound}`,
    host,
    port: bound,
    requests,
    openSockets: () => sockets.size,
    connections: () => accepted,
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
export async function startTestProxy(resolver: { origin: string }, env: Record<string, string> = {}, start: Pick<StartProxyOptions, 'headersTimeout' | 'now'> = {}): Promise<TestProxy> {
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
  const proxy = await startProxy(config, { logger: createLogger(config.logLevel, sink), ...start });
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

/** An HTTP answer read off a raw socket. */
export interface RawAnswer {
  /** The status line's code (0 when the server closed without answering). */
  status: number;
  /** Header names in lower case. */
  headers: Record<string, string>;
  body: string;
  /** Everything the server sent, as latin1 text. */
  raw: string;
}

/** Splits what a server sent into status, headers and (de-chunked) body. */
function parseRawAnswer(raw: string): RawAnswer {
  const headEnd = raw.indexOf('\r\n\r\n');
  if (!raw.startsWith('HTTP/') || headEnd === -1) return { status: 0, headers: {}, body: '', raw };
  const [statusLine, ...lines] = raw.slice(0, headEnd).split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  let body = raw.slice(headEnd + 4);
  if (headers['transfer-encoding'] === 'chunked') {
    let plain = '';
    for (let at = 0; ;) {
      const sizeEnd = body.indexOf('\r\n', at);
      const size = Number.parseInt(body.slice(at, sizeEnd), 16);
      if (!(size > 0)) break;
      plain += body.slice(sizeEnd + 2, sizeEnd + 2 + size);
      at = sizeEnd + 2 + size + 2;
    }
    body = plain;
  }
  return { status: Number(statusLine!.split(' ')[1]), headers, body: Buffer.from(body, 'latin1').toString('utf8'), raw };
}

/**
 * Sends `bytes` as they are over a fresh TCP connection and reads everything the server sends
 * until it closes the connection (the caller asks for `Connection: close`, or the server closes
 * after an error). Several parts are sent one by one, each once the server has answered
 * something to the one before (a keep-alive connection, not a pipeline). Rejects when the
 * server has not closed within `timeoutMs`.
 */
export function rawExchange(base: string, bytes: string | Buffer | ReadonlyArray<string | Buffer>, timeoutMs = 10_000): Promise<RawAnswer> {
  const { hostname, port } = new URL(base);
  const parts = typeof bytes === 'string' || Buffer.isBuffer(bytes) ? [bytes] : [...bytes];
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connect({ host: hostname, port: Number(port) }, () => socket.write(parts.shift()!));
    socket.on('data', () => {
      const next = parts.shift();
      if (next !== undefined) socket.write(next);
    });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the server did not close the connection within ${timeoutMs} ms; it sent ${JSON.stringify(Buffer.concat(chunks).toString('latin1').slice(0, 200))}`));
    }, timeoutMs);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    // A reset after the answer (the server closed with unread request bytes) still ends the exchange.
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(parseRawAnswer(Buffer.concat(chunks).toString('latin1')));
    });
  });
}

/**
 * GET with the request target sent exactly as written: absolute-form, `*` and dot segments
 * included (undici and `URL` would normalize them).
 */
export async function rawGet(base: string, target: string): Promise<{ status: number; body: string }> {
  const { host } = new URL(base);
  const { status, body } = await rawExchange(base, `GET ${target} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
  return { status, body };
}
