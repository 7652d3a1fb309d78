import type { IncomingMessage, ServerResponse } from 'node:http';

const EXPOSED_HEADERS = 'Content-Length, Content-Range, Accept-Ranges';

/**
 * CORS for browser players (hls.js, `<video>`): every response says who may read it and exposes
 * the range headers; preflights for `Range` are answered. The signed URL is the credential, so
 * no cookies are involved and `*` is a safe default.
 */
export interface CorsPolicy {
  /**
   * The CORS headers of an answer to `req`, made once per allowed origin and shared: a media
   * answer adds them to the headers it writes in one go (`RequestContext.writeHead`).
   */
  headersFor(req: IncomingMessage): Readonly<Record<string, string>>;
  /** Sets them on `res` and answers a preflight (`OPTIONS`) whole. */
  apply(req: IncomingMessage, res: ServerResponse): 'preflight' | 'continue';
}

/**
 * The CORS policy of `STRM_PROXY_CORS_ORIGINS`: `*` lets every origin read, a list only those
 * origins (each answer then varies on `Origin`).
 *
 * @example
 * const cors = createCorsPolicy(['https://jellyfin.example']);
 * cors.headersFor(req); // { vary: 'Origin', 'access-control-allow-origin': 'https://jellyfin.example', … } for that origin
 */
export function createCorsPolicy(origins: '*' | readonly string[]): CorsPolicy {
  const anyOrigin = Object.freeze({ 'access-control-allow-origin': '*', 'access-control-expose-headers': EXPOSED_HEADERS });
  const otherOrigin = Object.freeze({ vary: 'Origin', 'access-control-expose-headers': EXPOSED_HEADERS });
  const allowed = origins === '*'
    ? undefined
    : new Map(origins.map((origin) => [origin, Object.freeze({ vary: 'Origin', 'access-control-allow-origin': origin, 'access-control-expose-headers': EXPOSED_HEADERS })]));
  const headersFor = (req: IncomingMessage): Readonly<Record<string, string>> => {
    if (allowed === undefined) return anyOrigin;
    const origin = req.headers.origin;
    return (typeof origin === 'string' ? allowed.get(origin) : undefined) ?? otherOrigin;
  };
  return {
    headersFor,
    apply(req, res) {
      for (const [name, value] of Object.entries(headersFor(req))) res.setHeader(name, value);
      if (req.method !== 'OPTIONS') return 'continue';
      res.statusCode = 204;
      res.setHeader('access-control-allow-methods', 'GET, HEAD, OPTIONS');
      res.setHeader('access-control-allow-headers', 'Range, If-Range, X-Api-Key');
      res.setHeader('access-control-max-age', '86400');
      res.end();
      return 'preflight';
    },
  };
}
