import type { IncomingMessage, ServerResponse } from 'node:http';
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import { createCorsHandler } from './cors';
import { errorBody, ProxyError } from './errors';
import { loggablePath } from './logger';
import { serveProxied, serveStream, type ProxyRuntime, type RequestState } from './routes';
import type { StatusBoard } from './status-board';
import { STATUS_PATHS } from './status-page';

/** One dependency check of `/readyz`. */
export interface ReadinessCheck {
  name: string;
  check: () => Promise<{ ok: boolean; detail?: string }>;
  /** A failed optional check makes the proxy `degraded`, not unready (it still serves). */
  optional?: boolean;
}

export interface ProxyAppOptions {
  runtime: ProxyRuntime;
  logger: Logger;
  readiness?: readonly ReadinessCheck[];
  /** Where media requests are shown while they run and kept when they fail (the status page). */
  board?: StatusBoard;
  /** `/status` and its files (see `createStatusPage`); without it those paths are unknown. */
  statusPage?: (req: IncomingMessage, res: ServerResponse) => Promise<void>;
}

function sendError(res: ServerResponse, error: ProxyError): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = errorBody(error);
  res.statusCode = error.status;
  for (const [name, value] of Object.entries(error.headers)) res.setHeader(name, value);
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.setHeader('cache-control', 'no-store');
  res.setHeader('content-length', Buffer.byteLength(body));
  res.end(res.req?.method === 'HEAD' ? undefined : body);
}

type Routed = (req: IncomingMessage, res: ServerResponse) => void;

/** The two media routes wrapped with their log line, metrics and error answers. */
function mediaRoutes(options: ProxyAppOptions): { stream: Routed; proxied: (req: IncomingMessage, res: ServerResponse, token: string) => void } {
  const { runtime, logger } = options;
  const { metrics } = runtime;

  const finishLog = (req: IncomingMessage, res: ServerResponse, state: RequestState) => {
    // A client that leaves closes the response while the stream is still settling its byte
    // count (promise callbacks); the line is written once they have run.
    res.once('close', () => setImmediate(() => {
      const status = res.statusCode;
      const durationMs = runtime.now() - state.startedAt;
      metrics.requests.inc({ route: state.route, status: String(status) });
      if (state.bytes > 0) metrics.bytesOut.inc({ route: state.route }, state.bytes);
      if (state.firstByteAt !== undefined) metrics.timeToFirstByte.observe({ route: state.route }, (state.firstByteAt - state.startedAt) / 1000);
      const line = {
        route: state.route,
        method: req.method,
        path: loggablePath(req.url ?? ''),
        status,
        bytes: state.bytes,
        durationMs,
        ...(state.firstByteAt !== undefined ? { ttfbMs: state.firstByteAt - state.startedAt } : {}),
        ...(state.upstreamStatus !== undefined ? { upstreamStatus: state.upstreamStatus, upstreamHost: state.upstreamHost } : {}),
        ...(state.refreshes > 0 ? { refreshes: state.refreshes } : {}),
        ...(state.resumes > 0 ? { resumes: state.resumes } : {}),
        ...(res.writableFinished ? {} : { aborted: true }),
      };
      if (status >= 500) logger.warn(line, 'request');
      else logger.info(line, 'request');
    }));
  };

  const run = (name: RequestState['route'], req: IncomingMessage, res: ServerResponse, handler: (state: RequestState) => Promise<void>) => {
    const state: RequestState = { route: name, startedAt: runtime.now(), refreshes: 0, resumes: 0, bytes: 0 };
    finishLog(req, res, state);
    options.board?.track(req, res, state);
    handler(state).catch((error: unknown) => {
      if (error instanceof ProxyError) {
        state.failure = { code: error.code, cause: error.message };
        sendError(res, error);
        return;
      }
      if (res.destroyed) return; // the client left; whatever failed after that is moot
      logger.error({ err: error, route: name, path: loggablePath(req.url ?? '') }, 'unexpected failure');
      state.failure = { code: 'STRM_INTERNAL', cause: 'the proxy failed unexpectedly; see its log' };
      sendError(res, new ProxyError('STRM_INTERNAL', 'the proxy failed unexpectedly; see its log'));
    });
  };

  return {
    stream: (req, res) => run('stream', req, res, (state) => serveStream(runtime, req, res, state)),
    proxied: (req, res, token) => run('proxy', req, res, (state) => serveProxied(runtime, req, res, state, token)),
  };
}

/**
 * The proxy's Express application. The two media routes are thin: every decision lives in
 * `routes.ts` and the modules it calls, each testable without Express.
 */
export function createProxyApp(options: ProxyAppOptions): Express {
  return buildApp(options, mediaRoutes(options));
}

/**
 * The `/strm/proxy/<token>/<name>` token of a request path in its plain form (no encoding, no
 * trailing slash), or undefined for any other path, which Express then matches as before.
 */
function plainProxyToken(path: string): string | undefined {
  const prefix = '/strm/proxy/';
  if (!path.startsWith(prefix)) return undefined;
  const slash = path.indexOf('/', prefix.length);
  if (slash <= prefix.length || slash === path.length - 1 || path.indexOf('/', slash + 1) !== -1) return undefined;
  if (path.includes('%')) return undefined;
  return path.slice(prefix.length, slash);
}

/**
 * The proxy's request listener: GET and HEAD of the two media routes, in their plain form, go
 * straight to their handlers; everything else (operations, preflights, other methods, unusual
 * spellings of a path) goes through the Express application, which answers them as it always
 * did. Express's per-request work (prototype swaps, router layers, path matching) is a fixed cost
 * on every segment and every seek, the requests that matter most.
 */
export function createProxyRequestListener(options: ProxyAppOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const routes = mediaRoutes(options);
  const app = buildApp(options, routes);
  const applyCors = createCorsHandler(options.runtime.config.corsOrigins);
  return (req, res) => {
    if (req.method === 'GET' || req.method === 'HEAD') {
      const url = req.url ?? '';
      const query = url.indexOf('?');
      const path = query === -1 ? url : url.slice(0, query);
      if (path === '/strm/stream') {
        applyCors(req, res);
        routes.stream(req, res);
        return;
      }
      const token = plainProxyToken(path);
      if (token !== undefined) {
        applyCors(req, res);
        routes.proxied(req, res, token);
        return;
      }
    }
    app(req, res);
  };
}

function buildApp(options: ProxyAppOptions, routes: ReturnType<typeof mediaRoutes>): Express {
  const { runtime, logger } = options;
  const { metrics } = runtime;
  const applyCors = createCorsHandler(runtime.config.corsOrigins);
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', false);

  app.use((req: IncomingMessage, res: ServerResponse, next: NextFunction) => {
    if (applyCors(req, res) === 'continue') next();
  });

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    const results = await Promise.all(
      (options.readiness ?? []).map(async (item) => {
        const result = await item.check().catch((error: Error) => ({ ok: false, detail: error.message }));
        return { name: item.name, optional: item.optional ?? false, ...result };
      }),
    );
    const failed = results.filter((result) => !result.ok);
    const status = failed.some((result) => !result.optional) ? 'unready' : failed.length > 0 ? 'degraded' : 'ready';
    res.status(status === 'unready' ? 503 : 200).json({ status, checks: results });
  });
  app.get('/metrics', async (_req, res) => {
    res.setHeader('content-type', metrics.registry.contentType);
    res.end(await metrics.registry.metrics());
  });

  app.get('/strm/stream', (req: Request, res: Response) => routes.stream(req, res));
  app.get('/strm/proxy/:token/:name', (req: Request, res: Response) => routes.proxied(req, res, String(req.params.token)));
  app.all(['/strm/stream', '/strm/proxy/:token/:name'], (_req, res) => {
    res.setHeader('allow', 'GET, HEAD, OPTIONS');
    sendError(res, new ProxyError('STRM_METHOD_NOT_ALLOWED', 'use GET or HEAD'));
  });
  const { statusPage } = options;
  if (statusPage !== undefined) {
    app.get([...STATUS_PATHS], (req: Request, res: Response) => {
      statusPage(req, res).catch((error: unknown) => {
        if (!(error instanceof ProxyError)) logger.error({ err: error }, 'unexpected failure of the status page');
        sendError(res, error instanceof ProxyError ? error : new ProxyError('STRM_INTERNAL', 'the proxy failed unexpectedly; see its log'));
      });
    });
  }
  app.use((_req: Request, res: Response) => {
    sendError(res, new ProxyError('STRM_NOT_FOUND', 'no such endpoint: see /strm/stream, /strm/proxy/<token>/<name>, /healthz, /readyz, /metrics'));
  });
  // Express's own failures (a malformed path encoding, ...) get the same JSON shape, no stack trace.
  app.use((error: Error & { status?: number }, _req: Request, res: Response, _next: NextFunction) => {
    if (error.status !== undefined && error.status >= 400 && error.status < 500) {
      sendError(res, new ProxyError('STRM_BAD_REQUEST', 'the request could not be parsed'));
      return;
    }
    logger.error({ err: error }, 'unexpected failure');
    sendError(res, new ProxyError('STRM_INTERNAL', 'the proxy failed unexpectedly; see its log'));
  });
  return app;
}
