import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RewriteStats } from '@strm/hls-rewrite';
import type { EpisodeIdentity, EpochMilliseconds } from '@strm/resolver-client';
import type { Logger } from 'pino';
import { ClientAbort } from './client-abort';
import { errorBody, ProxyError } from './errors';
import { countMediaRequest } from './heap-mode';
import { failureFields, identityFields, type FailureFields } from './failure-log';
import { loggablePath } from './logger';
import type { ProxyMetrics } from './metrics';
import type { TrackedRequest } from './status-board';
import type { UpstreamSession } from './upstream-session';

/** What a request's telemetry needs from the proxy. */
export interface RequestTelemetry {
  metrics: ProxyMetrics;
  logger: Logger;
  now: () => EpochMilliseconds;
}

/**
 * Ends an answer whose head is already out by closing the connection, so that a body cut short
 * never looks complete. What was written goes out first: Node corks the socket for the writes of
 * one tick (chunked encoding) and a destroy drops what is still corked, so a fault found in the
 * tick of the first writes would close the connection without the status line having left.
 */
export function cutAnswer(res: ServerResponse): void {
  const { socket } = res;
  while (socket !== null && !socket.destroyed && socket.writableCorked > 0) socket.uncork();
  res.destroy();
}

/**
 * Answers with a JSON error (`{"error": {"code", "message"}}`), or cuts the connection when the
 * headers are already sent: a body cut short must never look complete. `answerHeaders`: headers
 * the request's every answer carries (a media request's CORS headers and `Vary`), set first.
 */
export function sendError(res: ServerResponse, error: ProxyError, answerHeaders?: Readonly<Record<string, string>>): void {
  if (res.headersSent) {
    cutAnswer(res);
    return;
  }
  const body = errorBody(error);
  res.statusCode = error.status;
  if (answerHeaders !== undefined) for (const [name, value] of Object.entries(answerHeaders)) res.setHeader(name, value);
  for (const [name, value] of Object.entries(error.headers)) res.setHeader(name, value);
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.setHeader('cache-control', 'no-store');
  res.setHeader('content-length', Buffer.byteLength(body));
  res.end(res.req?.method === 'HEAD' ? undefined : body);
}

/**
 * Why a request failed: a `STRM_…` code and a cause that holds no secret (the status page shows
 * it), plus what the log line says about it (resolver code, upstream host, address class...).
 */
export type RequestFailure = FailureFields;

/**
 * One media request and what it did (like `send`'s `SendStream`): the client's request and
 * response, when its headers went out, the bytes sent (counted as they go), the episode, its
 * upstream session (refreshes, resumes, upstream status) and why it failed. Its log line and
 * metrics are written once the response closed; the status board reads it live.
 */
export class RequestContext implements TrackedRequest {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly route: 'stream' | 'proxy';
  readonly method: 'GET' | 'HEAD';
  readonly startedAt: EpochMilliseconds;
  firstByteAt: EpochMilliseconds | undefined;
  /** Body bytes written to the client so far. */
  bytes = 0;
  /** The episode, once the request named one (entry parameters or link). */
  identity: EpisodeIdentity | undefined;
  failure: RequestFailure | undefined;
  session: UpstreamSession | undefined;

  /** Aborted when the client goes away: every upstream request of this one stops with it. */
  readonly signal = new ClientAbort();

  readonly #telemetry: RequestTelemetry;
  /** Headers every answer to this request carries (CORS), shared between requests. */
  readonly #answerHeaders: Readonly<Record<string, string>>;
  /** What the answer's `Vary` adds to theirs (see `vary`). */
  #vary: string | undefined;

  /** `answerHeaders`: what every answer carries besides its own (see `writeHead`). */
  constructor(telemetry: RequestTelemetry, req: IncomingMessage, res: ServerResponse, route: 'stream' | 'proxy', answerHeaders: Readonly<Record<string, string>> = {}) {
    this.#telemetry = telemetry;
    this.#answerHeaders = answerHeaders;
    this.req = req;
    this.res = res;
    this.route = route;
    this.method = req.method === 'HEAD' ? 'HEAD' : 'GET';
    this.startedAt = telemetry.now();
    // In flight (heap-mode.ts) from here until the response closes, however it ends.
    countMediaRequest(1);
    let closed = false;
    const onClose = () => {
      if (closed) return;
      closed = true;
      countMediaRequest(-1);
      // A client that leaves closes the response while the stream is still settling its byte
      // count (promise callbacks); the line is written once they have run. Scheduled first, so
      // that an abort listener that throws cannot cost the request its line.
      setImmediate(this.#finish);
      // Only a response cut short stops its upstream requests: after a complete one nothing runs
      // that the signal could stop, and an abort costs an AbortError with its stack every time.
      if (!res.writableFinished) this.signal.abort();
    };
    // `on`, not `once`: 'close' comes once per response, and `once` would wrap the listener anew.
    res.on('close', onClose);
    // The request closes after its response; it alone closes when the response was still waiting
    // behind another on a pipelined connection that the client closed (Node 20 never closes such a
    // response), so without it that request would stay counted, logged and shown for good.
    req.on('close', onClose);
  }

  get refreshes(): number {
    return this.session?.refreshes ?? 0;
  }

  get resumes(): number {
    return this.session?.resumes ?? 0;
  }

  get upstreamHost(): string | undefined {
    return this.session?.host;
  }

  /** A request header, when it was sent once. */
  header(name: string): string | undefined {
    const value = this.req.headers[name];
    return typeof value === 'string' ? value : undefined;
  }

  /** Adds header names to the answer's `Vary` (after those of the answer headers). */
  vary(names: string): void {
    this.#vary = this.#vary === undefined ? names : `${this.#vary}, ${names}`;
  }

  /**
   * Sends the status line and headers: the time to first byte, and a stream begins. `headers` is
   * the caller's to give away: the answer headers and `Vary` are added to it, and it is written
   * whole. Nothing is set on the response before (`setHeader`), so Node writes the object as it
   * is instead of copying each header into the response's own table, which the response would
   * then hold for as long as its body runs.
   */
  writeHead(status: number, headers: Record<string, string>): void {
    this.firstByteAt = this.#telemetry.now();
    this.res.writeHead(status, this.#withAnswerHeaders(headers));
  }

  /** Adds the answer headers and `Vary` to `headers`; a `Vary` already there is kept and added to. */
  #withAnswerHeaders(headers: Record<string, string>): Record<string, string> {
    const answerHeaders = this.#answerHeaders;
    for (const name in answerHeaders) this.#addHeader(headers, name, answerHeaders[name]!);
    if (this.#vary !== undefined) this.#addHeader(headers, 'vary', this.#vary);
    return headers;
  }

  #addHeader(headers: Record<string, string>, name: string, value: string): void {
    const present = headers[name];
    headers[name] = name === 'vary' && present !== undefined ? `${present}, ${value}` : value;
  }

  /** Counts the URIs a playlist rewrite replaced, by tag. */
  countRewrites(stats: RewriteStats): void {
    for (const [tag, count] of Object.entries(stats.byTag)) this.#telemetry.metrics.rewrittenUris.inc({ tag }, count);
  }

  /** Answers a failed request: its JSON error, or a logged 500 for what nobody expected. */
  fail(error: unknown): void {
    if (error instanceof ProxyError) {
      // The code and cause ride to the request's one log line and to the status page.
      this.failure = failureFields(error);
      sendError(this.res, error, this.#withAnswerHeaders({}));
      return;
    }
    if (this.res.destroyed) return; // the client left; whatever failed after that is moot
    this.#telemetry.logger.error({ err: error, route: this.route, path: loggablePath(this.req.url ?? '') }, 'unexpected failure');
    this.failure = { code: 'STRM_INTERNAL', cause: 'the proxy failed unexpectedly; see its log' };
    sendError(this.res, new ProxyError('STRM_INTERNAL', 'the proxy failed unexpectedly; see its log'), this.#withAnswerHeaders({}));
  }

  readonly #finish = (): void => {
    const { metrics, logger } = this.#telemetry;
    const status = this.res.statusCode;
    metrics.requests.inc({ route: this.route, status: String(status) });
    if (this.bytes > 0) metrics.bytesOut.inc({ route: this.route }, this.bytes);
    if (this.firstByteAt !== undefined) metrics.timeToFirstByte.observe({ route: this.route }, (this.firstByteAt - this.startedAt) / 1000);
    const line = this.#logLine(status);
    if (status >= 500) logger.warn(line, 'request');
    else logger.info(line, 'request');
  };

  /** The request's log line: its fields added one by one, in the order they are written. */
  #logLine(status: number): Record<string, unknown> {
    const { session, identity, failure } = this;
    const line: Record<string, unknown> = { route: this.route, method: this.req.method, path: loggablePath(this.req.url ?? '') };
    if (identity !== undefined) Object.assign(line, identityFields(identity));
    line.status = status;
    if (failure !== undefined) Object.assign(line, failure);
    line.bytes = this.bytes;
    line.durationMs = this.#telemetry.now() - this.startedAt;
    if (this.firstByteAt !== undefined) line.ttfbMs = this.firstByteAt - this.startedAt;
    if (session !== undefined) {
      if (session.status !== undefined) {
        line.upstreamStatus = session.status;
        line.upstreamHost = session.host;
      }
      if (session.refreshes > 0) {
        line.refreshes = session.refreshes;
        line.refreshedAfter = session.refreshedAfter;
      }
      if (session.resumes > 0) line.resumes = session.resumes;
      if (session.relocatedAhead) line.relocatedAhead = true;
    }
    if (!this.res.writableFinished) line.aborted = true;
    return line;
  }
}
