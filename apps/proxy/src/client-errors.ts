import { STATUS_CODES, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { errorBody, ProxyError } from './errors';

/**
 * Longest request target the proxy serves (RFC 9112 §3 asks for at least 8000 octets). Entry URLs
 * and proxy links are far shorter: a proxy link is kept under the 4096 bytes FFmpeg reads.
 */
export const MAX_REQUEST_TARGET_BYTES = 8 * 1024;

/** What Node's parser reports for a request it could not read (`clientError`). */
interface ParserError extends Error {
  code?: string;
  /** The bytes of the read that failed (the last chunk only, not the whole request). */
  rawPacket?: Buffer;
}

const tooLongUrl = () => new ProxyError('STRM_URL_TOO_LONG', `the request URL is longer than ${MAX_REQUEST_TARGET_BYTES} bytes`);

/**
 * Whether a header overflow struck in the request line: the read that overflowed starts with a
 * line longer than the URL limit, ended or not. A long URL that arrived over several reads and a
 * long header field both read as headers (431): the parser does not say where it was.
 */
function overflowInRequestLine(packet: Buffer | undefined): boolean {
  if (packet === undefined) return false;
  const lineEnd = packet.indexOf(0x0a);
  const firstLine = lineEnd === -1 ? packet.length : lineEnd;
  return firstLine > MAX_REQUEST_TARGET_BYTES && /^[A-Za-z]+ /.test(packet.subarray(0, 16).toString('latin1'));
}

/**
 * The proxy's answer to a request Node's parser refused, by the parser's code: a timeout while
 * the headers arrive is a 408, a request line or header block over the limit a 414 or 431, and
 * anything else unreadable (garbage, a lowercase or unknown method, `HTTP/1.2`, control bytes in
 * a header, a bad chunked body) a 400.
 *
 * @example
 * clientErrorAnswer(Object.assign(new Error('Parse Error'), { code: 'HPE_INVALID_METHOD' })).status // 400
 */
export function clientErrorAnswer(error: ParserError): ProxyError {
  switch (error.code) {
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return new ProxyError('STRM_REQUEST_TIMEOUT', 'the request did not arrive in time');
    case 'HPE_HEADER_OVERFLOW':
      return overflowInRequestLine(error.rawPacket)
        ? tooLongUrl()
        : new ProxyError('STRM_HEADERS_TOO_LARGE', 'the request line and headers are larger than 16 KiB');
    case 'HPE_INVALID_METHOD':
      return new ProxyError('STRM_BAD_REQUEST', 'the request could not be parsed: the method is not an HTTP method in upper case');
    case 'HPE_INVALID_VERSION':
      return new ProxyError('STRM_BAD_REQUEST', 'the request could not be parsed: use HTTP/1.1 or HTTP/1.0');
    case 'HPE_INVALID_HEADER_TOKEN':
      return new ProxyError('STRM_BAD_REQUEST', 'the request could not be parsed: a header holds a character HTTP does not allow there');
    default:
      return new ProxyError('STRM_BAD_REQUEST', 'the request could not be parsed');
  }
}

/**
 * A whole HTTP/1.1 answer carrying the JSON error, written straight to a socket that has no
 * `ServerResponse` (a refused parse, CONNECT); the connection closes after it.
 */
function rawErrorResponse(error: ProxyError, extraHeaders: Record<string, string> = {}): string {
  const body = errorBody(error);
  const headers: Record<string, string> = {
    ...error.headers,
    ...extraHeaders,
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
    'content-length': String(Buffer.byteLength(body)),
    connection: 'close',
  };
  const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}`);
  return `HTTP/1.1 ${error.status} ${STATUS_CODES[error.status] ?? ''}\r\n${lines.join('\r\n')}\r\n\r\n${body}`;
}

/** The log line of a request refused before it reached the router; the request's bytes stay out of it (they may hold a key). */
function logRefusal(logger: Logger, error: ProxyError, cause: string): void {
  logger.info({ route: 'other', status: error.status, code: error.code, cause }, 'request');
}

/**
 * The server's `clientError` listener: answers with the proxy's JSON error and closes. A socket
 * the client already reset, or one with a response of its own under way (a keep-alive request
 * still being answered), is only closed: bytes written there would land inside another answer.
 */
export function answerClientError(logger: Logger): (error: ParserError, socket: Duplex) => void {
  return (error, socket) => {
    const inFlight = (socket as { _httpMessage?: unknown })._httpMessage;
    if (error.code === 'ECONNRESET' || !socket.writable || inFlight) {
      socket.destroy();
      return;
    }
    const answer = clientErrorAnswer(error);
    logRefusal(logger, answer, error.code ?? error.message);
    socket.on('error', () => socket.destroy());
    socket.end(rawErrorResponse(answer));
  };
}

/**
 * The server's `connect` listener: strm is not a forward proxy, so CONNECT gets a JSON 405 (Node
 * would close the socket without a word) and the connection closes.
 */
export function refuseConnect(logger: Logger): (req: IncomingMessage, socket: Duplex) => void {
  return (_req, socket) => {
    const answer = new ProxyError('STRM_METHOD_NOT_ALLOWED', 'this is not a forward proxy: CONNECT is not served; use GET or HEAD');
    logRefusal(logger, answer, 'CONNECT');
    socket.on('error', () => socket.destroy());
    socket.end(rawErrorResponse(answer, { allow: 'GET, HEAD, OPTIONS' }));
  };
}

/**
 * Why a parsed request target is refused before routing, or undefined: only origin-form
 * (`/path?query`) and `*` are served. An absolute-form target (`http://host/path`) is what a
 * client sends to a forward proxy, which strm is not; honouring its authority over `Host` would
 * change the base of every rewritten link.
 */
export function requestTargetProblem(target: string): ProxyError | undefined {
  if (target.length > MAX_REQUEST_TARGET_BYTES) return tooLongUrl();
  if (target.startsWith('/') || target === '*') return undefined;
  return new ProxyError('STRM_BAD_REQUEST', 'this is not a forward proxy: ask for a path (/strm/stream?…), not an absolute URL');
}

/**
 * An HTTP/1.1 request without `Host` is refused with a 400 (RFC 9112 §3.2); the server is created
 * with `requireHostHeader: false` so that the answer is the proxy's JSON, not Node's empty one.
 */
export function missingHost(req: { httpVersion: string; headers: IncomingHttpHeaders }): ProxyError | undefined {
  if (req.httpVersion !== '1.1' || req.headers.host !== undefined) return undefined;
  return new ProxyError('STRM_BAD_REQUEST', 'an HTTP/1.1 request must say its Host (RFC 9112 §3.2)');
}
