import { pino, type Logger } from 'pino';

/**
 * The proxy's JSON logger. Request lines carry paths without query strings and proxy tokens
 * shortened, so signatures, API keys, tokens and upstream URLs never reach a log; the paths
 * below catch anything passed by mistake.
 */
export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  return pino(
    {
      level,
      base: { service: 'strm-proxy' },
      redact: {
        paths: ['secret', 'sig', 'apikey', 'token', 'headers.cookie', 'headers.authorization', 'headers["x-api-key"]', 'config.secret', 'config.previousSecrets'],
        censor: '[redacted]',
      },
    },
    destination ?? process.stdout,
  );
}

/**
 * The request path as it may be logged: no query, the token of `/strm/proxy` cut short. Routes
 * match without regard to case, so `/STRM/Proxy/<token>` is shortened too.
 */
export function loggablePath(url: string): string {
  const query = url.indexOf('?');
  const path = query === -1 ? url : url.slice(0, query);
  return path.replace(/^(\/strm\/proxy\/[^/]{8})[^/]*/i, '$1…');
}
