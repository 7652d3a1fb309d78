/** Every error the proxy answers with itself, by stable code. */
export const PROXY_ERRORS = {
  STRM_UNAUTHORIZED: 401,
  STRM_SIGNATURE_EXPIRED: 401,
  STRM_TOKEN_INVALID: 401,
  STRM_TOKEN_EXPIRED: 401,
  STRM_BAD_PARAMETER: 400,
  STRM_BAD_REQUEST: 400,
  STRM_BAD_FORWARDED_HEADER: 400,
  STRM_BAD_PROXY_PATH: 400,
  STRM_BAD_DELIVERY_DIRECTIVE: 400,
  STRM_NOT_FOUND: 404,
  STRM_EPISODE_NOT_FOUND: 404,
  STRM_METHOD_NOT_ALLOWED: 405,
  STRM_REQUEST_TIMEOUT: 408,
  STRM_URL_TOO_LONG: 414,
  STRM_HEADERS_TOO_LARGE: 431,
  STRM_RANGE_NOT_SATISFIABLE: 416,
  STRM_RESOLVER_FAILED: 502,
  STRM_UPSTREAM_FAILED: 502,
  STRM_UPSTREAM_REFUSED: 502,
  STRM_UPSTREAM_BAD_RANGE: 502,
  STRM_BAD_PLAYLIST: 502,
  STRM_BAD_PLAYLIST_VARIABLE: 502,
  STRM_URI_TOO_LONG: 502,
  STRM_TOO_MANY_URIS: 502,
  STRM_TOO_MANY_VARIABLE_REFERENCES: 502,
  STRM_REWRITE_TOO_LARGE: 502,
  STRM_REWRITE_AMPLIFIED: 502,
  STRM_BAD_MANIFEST: 502,
  STRM_BAD_STEERING_MANIFEST: 502,
  STRM_UPSTREAM_TIMEOUT: 504,
  STRM_INTERNAL: 500,
} as const;

export type ProxyErrorCode = keyof typeof PROXY_ERRORS;

/**
 * A failure the proxy answers with a JSON body `{"error": {"code", "message"}}`.
 * The message is shown to clients: it never holds a secret, a signature or an upstream URL.
 */
export class ProxyError extends Error {
  readonly code: ProxyErrorCode;
  readonly status: number;
  /** Extra response headers (e.g. `content-range` on a 416). */
  readonly headers: Readonly<Record<string, string>>;

  constructor(code: ProxyErrorCode, message: string, options: { cause?: unknown; headers?: Record<string, string>; status?: number } = {}) {
    super(message, { cause: options.cause });
    this.name = 'ProxyError';
    this.code = code;
    // An upstream failure that outlived the refresh passes the upstream's own status through.
    this.status = options.status ?? PROXY_ERRORS[code];
    this.headers = options.headers ?? {};
  }
}

/** The JSON body of an error answer. */
export function errorBody(error: ProxyError): string {
  return JSON.stringify({ error: { code: error.code, message: error.message } });
}
