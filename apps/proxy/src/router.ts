import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { createCorsHandler } from './cors';
import { ProxyError } from './errors';
import { serveProxied, serveStream } from './media-handlers';
import { answerHealth, answerMetrics, answerReadiness, type ReadinessCheck } from './ops-endpoints';
import { RequestContext, sendError, type RequestTelemetry } from './request-context';
import type { ProxyRuntime } from './runtime';
import type { StatusBoard } from './status-board';
import { STATUS_PATHS } from './status-page';

/** What the proxy's request listener serves with. */
export interface ProxyListenerOptions {
  runtime: ProxyRuntime;
  logger: Logger;
  readiness?: readonly ReadinessCheck[];
  /** Where media requests are shown while they run and kept when they fail (the status page). */
  board?: StatusBoard;
  /** `/status` and its files (see `createStatusPage`); without it those paths are unknown. */
  statusPage?: (req: IncomingMessage, res: ServerResponse) => Promise<void>;
}

/** The endpoint a request path names. */
export type RouteMatch =
  | { endpoint: 'stream' }
  | { endpoint: 'proxy'; token: string }
  | { endpoint: 'healthz' | 'readyz' | 'metrics' | 'status' | 'not-found' | 'bad-request' };

const STREAM: RouteMatch = { endpoint: 'stream' };
const NOT_FOUND: RouteMatch = { endpoint: 'not-found' };
const OPERATIONS = new Set(['healthz', 'readyz', 'metrics']);
const STATUS_FILES = new Set<string>(STATUS_PATHS.map((path) => path.slice(1)));
const PROXY_PREFIX = '/strm/proxy/';

/**
 * The `/strm/proxy/<token>/<name>` token of a path in its plain form (no encoding, no trailing
 * slash): the spelling of every segment and seek, matched without splitting or decoding.
 */
function plainProxyToken(path: string): string | undefined {
  if (!path.startsWith(PROXY_PREFIX)) return undefined;
  const slash = path.indexOf('/', PROXY_PREFIX.length);
  if (slash <= PROXY_PREFIX.length || slash === path.length - 1 || path.indexOf('/', slash + 1) !== -1) return undefined;
  if (path.includes('%')) return undefined;
  return path.slice(PROXY_PREFIX.length, slash);
}

/** Decodes a path segment; undefined when its percent-encoding is malformed. */
function decodeSegment(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

/**
 * Any other spelling: path segments compared without regard to case, one trailing slash allowed,
 * the token and name percent-decoded (a malformed encoding is a bad request).
 */
function matchSpelledPath(rawPath: string): RouteMatch {
  let path = rawPath;
  if (!path.startsWith('/')) {
    // An absolute-form request target (`GET http://host/path`).
    if (!URL.canParse(path)) return NOT_FOUND;
    path = new URL(path).pathname;
  }
  if (path.length > 1 && path.endsWith('/')) path = path.slice(0, -1);
  const parts = path.split('/');
  const word = (index: number) => parts[index]!.toLowerCase();
  if (parts.length === 2 && OPERATIONS.has(word(1))) return { endpoint: word(1) as 'healthz' | 'readyz' | 'metrics' };
  if (parts.length === 2 && STATUS_FILES.has(word(1))) return { endpoint: 'status' };
  if (parts.length === 3 && word(1) === 'strm' && word(2) === 'stream') return STREAM;
  if (parts.length !== 5 || word(1) !== 'strm' || word(2) !== 'proxy' || parts[3] === '' || parts[4] === '') return NOT_FOUND;
  const token = decodeSegment(parts[3]!);
  if (token === undefined || decodeSegment(parts[4]!) === undefined) return { endpoint: 'bad-request' };
  return { endpoint: 'proxy', token };
}

/**
 * The endpoint of a request target. The plain spellings of the two media routes are matched
 * first, with a comparison or two: they are the requests that matter most (every segment, every
 * seek).
 *
 * @example
 * matchRoute('/strm/stream?slug=x')      // { endpoint: 'stream' }
 * matchRoute('/strm/proxy/abc/seg.ts')   // { endpoint: 'proxy', token: 'abc' }
 * matchRoute('/STRM/Proxy/a%62c/seg.ts/') // { endpoint: 'proxy', token: 'abc' }
 * matchRoute('/nope')                    // { endpoint: 'not-found' }
 */
export function matchRoute(target: string): RouteMatch {
  const query = target.indexOf('?');
  const path = query === -1 ? target : target.slice(0, query);
  if (path === '/strm/stream') return STREAM;
  const token = plainProxyToken(path);
  if (token !== undefined) return { endpoint: 'proxy', token };
  return matchSpelledPath(path);
}

function methodNotAllowed(res: ServerResponse): void {
  res.setHeader('allow', 'GET, HEAD, OPTIONS');
  sendError(res, new ProxyError('STRM_METHOD_NOT_ALLOWED', 'use GET or HEAD'));
}

const notFound = () => new ProxyError('STRM_NOT_FOUND', 'no such endpoint: see /strm/stream, /strm/proxy/<token>/<name>, /healthz, /readyz, /metrics');

/** `/status` and its files: the page's own failures answer as JSON errors. */
function serveStatusPage(options: ProxyListenerOptions, req: IncomingMessage, res: ServerResponse): void {
  const { statusPage, logger } = options;
  if (statusPage === undefined || (req.method !== 'GET' && req.method !== 'HEAD')) return sendError(res, notFound());
  statusPage(req, res).catch((error: unknown) => {
    if (!(error instanceof ProxyError)) logger.error({ err: error }, 'unexpected failure of the status page');
    sendError(res, error instanceof ProxyError ? error : new ProxyError('STRM_INTERNAL', 'the proxy failed unexpectedly; see its log'));
  });
}

/** A media request: its context (tracked by the status board), then its handler. */
function serveMedia(options: ProxyListenerOptions, telemetry: RequestTelemetry, req: IncomingMessage, res: ServerResponse, route: RouteMatch & { endpoint: 'stream' | 'proxy' }): void {
  const { runtime } = options;
  const ctx = new RequestContext(telemetry, req, res, route.endpoint);
  options.board?.track(req, res, ctx);
  const served = route.endpoint === 'stream' ? serveStream(runtime, ctx) : serveProxied(runtime, ctx, route.token);
  served.catch((error: unknown) => ctx.fail(error));
}

/**
 * The proxy's one request listener: CORS (and preflights) for every path, then the endpoint.
 * The media routes answer GET and HEAD; the operations endpoints and the status page GET and
 * HEAD too; everything else is a JSON 404 or 405.
 */
export function createProxyRequestListener(options: ProxyListenerOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const { runtime, logger } = options;
  const applyCors = createCorsHandler(runtime.config.corsOrigins);
  const telemetry: RequestTelemetry = { metrics: runtime.metrics, logger, now: runtime.now };
  const readable = (req: IncomingMessage) => req.method === 'GET' || req.method === 'HEAD';
  return (req, res) => {
    if (applyCors(req, res) === 'preflight') return;
    const route = matchRoute(req.url ?? '');
    switch (route.endpoint) {
      case 'stream':
      case 'proxy':
        if (!readable(req)) return methodNotAllowed(res);
        return serveMedia(options, telemetry, req, res, route);
      case 'healthz':
        return readable(req) ? answerHealth(res) : sendError(res, notFound());
      case 'readyz':
        return readable(req) ? void answerReadiness(res, options.readiness ?? []) : sendError(res, notFound());
      case 'metrics':
        return readable(req) ? void answerMetrics(res, runtime.metrics, logger) : sendError(res, notFound());
      case 'status':
        return serveStatusPage(options, req, res);
      case 'bad-request':
        return sendError(res, new ProxyError('STRM_BAD_REQUEST', 'the request could not be parsed'));
      case 'not-found':
        return sendError(res, notFound());
    }
  };
}
