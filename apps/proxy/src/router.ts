import { IncomingMessage, ServerResponse } from 'node:http';
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import { missingHost, requestTargetProblem } from './client-errors';
import { createCorsPolicy, type CorsPolicy } from './cors';
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
function serveMedia(options: ProxyListenerOptions, telemetry: RequestTelemetry, cors: CorsPolicy, req: Request, res: Response, token?: string): void {
  const { runtime } = options;
  // Express's router leaves its `next` on the request for whoever calls it later; a media
  // request ends here and never does. Let go, the request holds it as long as its body runs:
  // the router's state for this request and the final handler's, most of what Express keeps.
  req.next = undefined;
  const ctx = new RequestContext(telemetry, req, res, token === undefined ? 'stream' : 'proxy', cors.headersFor(req));
  options.board?.track(req, res, ctx);
  const served = token === undefined ? serveStream(runtime, ctx) : serveProxied(runtime, ctx, token);
  served.catch((error: unknown) => ctx.fail(error));
}

/**
 * The request and response classes for the proxy's HTTP server: subclasses of Node's own, whose
 * prototypes become the Express application's (`app.request`, `app.response`, chained to the
 * ones Express made, so every Express method is still there). Express gives every request those
 * prototypes (`Object.setPrototypeOf` on each request and response); on objects born with them
 * that is a no-op, instead of a change of shape on every segment and every seek that makes each
 * later property access on them slower (Node's own writes included).
 *
 * They are classes, not functions that call Node's constructor on an object of another
 * prototype: V8 sizes the objects of a derived class for the fields its base constructors
 * assign, while the object of a plain function had no room for them and a response ended up
 * with its properties in a dictionary (slow mode), paid by every `write`, `writeHead` and
 * `end` Node does on it, per chunk.
 */
export function expressServerClasses(app: Express): { IncomingMessage: typeof IncomingMessage; ServerResponse: typeof ServerResponse } {
  class ProxyRequest extends IncomingMessage {}
  class ProxyResponse<Request extends IncomingMessage = IncomingMessage> extends ServerResponse<Request> {}
  Object.setPrototypeOf(ProxyRequest.prototype, app.request);
  Object.setPrototypeOf(ProxyResponse.prototype, app.response);
  app.request = ProxyRequest.prototype as unknown as Express['request'];
  app.response = ProxyResponse.prototype as unknown as Express['response'];
  return { IncomingMessage: ProxyRequest, ServerResponse: ProxyResponse };
}

/**
 * The proxy's Express application, its one router: the request target checked, then the endpoint.
 * Every answer carries CORS headers, and preflights are answered: a media request's answer adds
 * them as it writes its head (`RequestContext`), every other request gets them from the
 * middleware after the media routes (where an `OPTIONS` for a media path lands too). Express
 * matches paths without regard to case, with one optional trailing slash, and percent-decodes
 * the token (a malformed encoding is a 400). The media routes answer GET and HEAD, everything
 * else is a JSON 404 or 405; Express's own failures get the same JSON shape, never a stack trace.
 */
export function createProxyApp(options: ProxyListenerOptions): Express {
  const { runtime, logger } = options;
  const cors = createCorsPolicy(runtime.config.corsOrigins);
  const telemetry: RequestTelemetry = { metrics: runtime.metrics, logger, now: runtime.now };
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', false);

  app.use((req: IncomingMessage, res: ServerResponse, next: NextFunction) => {
    const problem = requestTargetProblem(req.url ?? '') ?? missingHost(req);
    if (problem !== undefined) return refuse(logger, req, res, problem);
    next();
  });
  app.get('/strm/stream', (req: Request, res: Response) => serveMedia(options, telemetry, cors, req, res));
  app.get('/strm/proxy/:token/:name', (req: Request, res: Response) => serveMedia(options, telemetry, cors, req, res, String(req.params.token)));
  // A sealed DASH directory: the player appends a path of several segments after the token.
  app.get('/strm/proxy/:token/*rest', (req: Request, res: Response) => serveMedia(options, telemetry, cors, req, res, String(req.params.token)));
  app.use((req: IncomingMessage, res: ServerResponse, next: NextFunction) => {
    if (cors.apply(req, res) === 'continue') next();
  });
  app.all(['/strm/stream', '/strm/proxy/:token/:name', '/strm/proxy/:token/*rest'], (req: Request, res: Response) => methodNotAllowed(logger, req, res));
  app.get('/healthz', (_req: Request, res: Response) => answerHealth(res));
  app.get('/readyz', (_req: Request, res: Response) => void answerReadiness(res, options.readiness ?? []));
  app.get('/metrics', (_req: Request, res: Response) => void answerMetrics(res, runtime.metrics, logger));
  app.get([...STATUS_PATHS], (req: Request, res: Response) => serveStatusPage(options, req, res));
  app.use((req: Request, res: Response) => refuse(logger, req, res, notFound()));
  app.use((error: Error & { status?: number }, req: Request, res: Response, _next: NextFunction) => {
    // A failure on a media route (a token that is not valid percent-encoding) skipped the CORS
    // middleware: its answer gets the headers here, and a preflight its 204.
    if (!res.headersSent && cors.apply(req, res) === 'preflight') return;
    if (error.status !== undefined && error.status >= 400 && error.status < 500) {
      return refuse(logger, req, res, new ProxyError('STRM_BAD_REQUEST', 'the request could not be parsed'));
    }
    logger.error({ err: error }, 'unexpected failure');
    sendError(res, new ProxyError('STRM_INTERNAL', 'the proxy failed unexpectedly; see its log'));
  });
  return app;
}
