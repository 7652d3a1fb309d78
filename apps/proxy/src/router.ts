// The `router` package ships no types: its declaration is read wherever this file is compiled
// (the e2e suites and tools compile the proxy from its sources, without its tsconfig).
// eslint-disable-next-line @typescript-eslint/triple-slash-reference
/// <reference path="./router-package.d.ts" />
import type { IncomingMessage, ServerResponse } from 'node:http';
import Router from 'router';
import type { Logger } from 'pino';
import { requestTargetProblem } from './client-errors';
import { createCorsHandler } from './cors';
import { ProxyError } from './errors';
import { loggablePath } from './logger';
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

const notFound = () => new ProxyError('STRM_NOT_FOUND', 'no such endpoint: see /strm/stream, /strm/proxy/<token>/<name>, /healthz, /readyz, /metrics');

/**
 * Answers a refusal outside the media routes, with its own log line: a client probing the wrong
 * path or method is what an operator looks for when "nothing plays".
 */
function refuse(logger: Logger, req: IncomingMessage, res: ServerResponse, error: ProxyError): void {
  logger.info({ route: 'other', method: req.method, path: loggablePath(req.url ?? ''), status: error.status, code: error.code, cause: error.message }, 'request');
  sendError(res, error);
}

function methodNotAllowed(logger: Logger, req: IncomingMessage, res: ServerResponse): void {
  res.setHeader('allow', 'GET, HEAD, OPTIONS');
  refuse(logger, req, res, new ProxyError('STRM_METHOD_NOT_ALLOWED', 'use GET or HEAD'));
}

/** `/status` and its files: the page's own failures answer as JSON errors. */
function serveStatusPage(options: ProxyListenerOptions, req: IncomingMessage, res: ServerResponse): void {
  const { statusPage, logger } = options;
  if (statusPage === undefined) return sendError(res, notFound());
  statusPage(req, res).catch((error: unknown) => {
    if (!(error instanceof ProxyError)) logger.error({ err: error }, 'unexpected failure of the status page');
    sendError(res, error instanceof ProxyError ? error : new ProxyError('STRM_INTERNAL', 'the proxy failed unexpectedly; see its log'));
  });
}

/** A media request: its context (tracked by the status board), then its handler. */
function serveMedia(options: ProxyListenerOptions, telemetry: RequestTelemetry, req: IncomingMessage, res: ServerResponse, token?: string): void {
  const { runtime } = options;
  const ctx = new RequestContext(telemetry, req, res, token === undefined ? 'stream' : 'proxy');
  options.board?.track(req, res, ctx);
  const served = token === undefined ? serveStream(runtime, ctx) : serveProxied(runtime, ctx, token);
  served.catch((error: unknown) => ctx.fail(error));
}

type Request = IncomingMessage & { params: Record<string, string> };
type Response = ServerResponse;
type NextFunction = (error?: unknown) => void;

/** A routing failure (a malformed percent-encoding in the path is a 400), or anything unexpected. */
function answerRoutingError(logger: Logger, error: Error & { status?: number }, req: IncomingMessage, res: ServerResponse): void {
  if (error.status !== undefined && error.status >= 400 && error.status < 500) {
    return refuse(logger, req, res, new ProxyError('STRM_BAD_REQUEST', 'the request could not be parsed'));
  }
  logger.error({ err: error }, 'unexpected failure');
  sendError(res, new ProxyError('STRM_INTERNAL', 'the proxy failed unexpectedly; see its log'));
}

/**
 * The proxy's request listener, one router: CORS (and preflights) for every path, then the
 * endpoint. It is Express 5's own router (the `router` package) without the rest of Express,
 * whose request/response helpers the proxy never used and whose loading cost an idle proxy
 * about 7 MB of memory. Paths match without regard to case, with one optional trailing slash,
 * and the token is percent-decoded (a malformed encoding is a 400). The media routes answer GET
 * and HEAD, everything else is a JSON 404 or 405; routing failures get the same JSON shape,
 * never a stack trace.
 */
export function createProxyApp(options: ProxyListenerOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const { runtime, logger } = options;
  const applyCors = createCorsHandler(runtime.config.corsOrigins);
  const telemetry: RequestTelemetry = { metrics: runtime.metrics, logger, now: runtime.now };
  const app = new Router<Request, Response>({ caseSensitive: false, strict: false });

  app.use((req: IncomingMessage, res: ServerResponse, next: NextFunction) => {
    const problem = requestTargetProblem(req.url ?? '');
    if (problem !== undefined) return refuse(logger, req, res, problem);
    if (applyCors(req, res) === 'continue') next();
  });
  app.get('/strm/stream', (req: Request, res: Response) => serveMedia(options, telemetry, req, res));
  app.get('/strm/proxy/:token/:name', (req: Request, res: Response) => serveMedia(options, telemetry, req, res, String(req.params.token)));
  // A sealed DASH directory: the player appends a path of several segments after the token.
  app.get('/strm/proxy/:token/*rest', (req: Request, res: Response) => serveMedia(options, telemetry, req, res, String(req.params.token)));
  app.all(['/strm/stream', '/strm/proxy/:token/:name', '/strm/proxy/:token/*rest'], (req: Request, res: Response) => methodNotAllowed(logger, req, res));
  app.get('/healthz', (_req: Request, res: Response) => answerHealth(res));
  app.get('/readyz', (_req: Request, res: Response) => void answerReadiness(res, options.readiness ?? []));
  app.get('/metrics', (_req: Request, res: Response) => void answerMetrics(res, runtime.metrics, logger));
  app.get([...STATUS_PATHS], (req: Request, res: Response) => serveStatusPage(options, req, res));
  app.use((req: Request, res: Response) => refuse(logger, req, res, notFound()));
  return (req, res) => {
    app(req as Request, res, (error?: unknown) => {
      // Every path ends in a handler above: only a routing failure comes back here.
      if (error instanceof Error) answerRoutingError(logger, error, req, res);
      else refuse(logger, req, res, notFound());
    });
  };
}
