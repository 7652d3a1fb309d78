import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * CORS for browser players (hls.js, `<video>`): every response says who may read it and exposes
 * the range headers; preflights for `Range` are answered. The signed URL is the credential, so
 * no cookies are involved and `*` is a safe default.
 */
export function createCorsHandler(origins: '*' | readonly string[]) {
  const allowed = origins === '*' ? undefined : new Set(origins);
  return function applyCors(req: IncomingMessage, res: ServerResponse): 'preflight' | 'continue' {
    const origin = req.headers.origin;
    if (allowed === undefined) {
      res.setHeader('access-control-allow-origin', '*');
    } else {
      res.setHeader('vary', 'Origin');
      if (typeof origin === 'string' && allowed.has(origin)) res.setHeader('access-control-allow-origin', origin);
    }
    res.setHeader('access-control-expose-headers', 'Content-Length, Content-Range, Accept-Ranges');
    if (req.method !== 'OPTIONS') return 'continue';
    res.statusCode = 204;
    res.setHeader('access-control-allow-methods', 'GET, HEAD, OPTIONS');
    res.setHeader('access-control-allow-headers', 'Range, If-Range, X-Api-Key');
    res.setHeader('access-control-max-age', '86400');
    res.end();
    return 'preflight';
  };
}
