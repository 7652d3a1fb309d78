import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { ResolverClient } from '@strm/resolver-client';
import type { ProxyConfig } from './config';
import { ProxyError } from './errors';
import type { RedisStatus } from './redis';
import { authorizeStatus, credentialQuery } from './status-access';
import { episodeLabel, type FailureSnapshot, type StatusBoard, type StreamSnapshot } from './status-board';

/** The paths the status page answers (GET and HEAD). */
export const STATUS_PATHS = ['/status', '/status.json', '/status.js', '/status.css', '/status.svg'] as const;

/** Resolver cache entries shown at most (newest first); the total is shown too. */
const MAX_CACHE_ENTRIES = 100;

/**
 * Nothing but same-origin files and same-origin polling: an injected script or style (were an
 * episode name ever to slip through as markup) would not run, and the page loads nothing from
 * elsewhere, so it works offline.
 */
const CONTENT_SECURITY_POLICY = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** What `/status.json` answers. No field holds a secret, a signature, a token or an upstream URL. */
export interface StatusSnapshot {
  version: string;
  /** `token`, `apikey` or `none`: how media requests are admitted. */
  auth: string;
  startedAt: string;
  now: string;
  uptimeSeconds: number;
  streams: StreamSnapshot[];
  failures: FailureSnapshot[];
  resolverCache: {
    /** Entries the cache would serve now; null when the store cannot list them (Redis). */
    total: number | null;
    entries: Array<{ episode: string; provider: string | null; expiresInSeconds: number | null; resolvedAt: string; ageSeconds: number; refreshed: boolean }> | null;
  };
  redis: RedisStatus | null;
}

export interface StatusPageOptions {
  config: Pick<ProxyConfig, 'status' | 'auth'>;
  /** The current secret first, then the previous ones. */
  secrets: readonly string[];
  board: StatusBoard;
  resolver: Pick<ResolverClient, 'listCached'>;
  /** The shared store's state, when Redis is configured. */
  redis?: () => RedisStatus;
  now: () => number;
  startedAt: number;
}

/** The version of `@strm/proxy` that runs (its package.json, next to `src/` and `dist/`). */
function proxyVersion(): string {
  return (createRequire(import.meta.url)('../package.json') as { version: string }).version;
}

function readAsset(name: string): string {
  return readFileSync(new URL(`../assets/status/${name}`, import.meta.url), 'utf8');
}

/** `&`, `<`, `>`, `"` and `'` as HTML character references, for a value inside an attribute. */
const HTML_REFERENCES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
function escapeAttribute(text: string): string {
  return text.replace(/[&<>"']/g, (char) => HTML_REFERENCES[char]!);
}

function send(res: ServerResponse, contentType: string, body: string): void {
  res.statusCode = 200;
  res.setHeader('content-type', contentType);
  res.setHeader('content-length', Buffer.byteLength(body));
  res.setHeader('cache-control', 'no-store');
  // The page's own URL holds its credential: never hand it on as a Referer.
  res.setHeader('referrer-policy', 'no-referrer');
  res.setHeader('content-security-policy', CONTENT_SECURITY_POLICY);
  res.setHeader('x-content-type-options', 'nosniff');
  res.setHeader('x-frame-options', 'DENY');
  res.end(res.req?.method === 'HEAD' ? undefined : body);
}

/**
 * `GET|HEAD /status` (the page), `/status.json` (what it shows), `/status.js`, `/status.css` and
 * `/status.svg` (its script, style and icon). Off unless `STRM_PROXY_STATUS=on` (404); each takes the same
 * credentials (see `authorizeStatus`), so the page passes its own query on to the others.
 * Failures reject with a `ProxyError` for the caller to answer.
 *
 * @example
 * const status = createStatusPage({ config, secrets, board, resolver, now: Date.now, startedAt: Date.now() });
 * app.get(STATUS_PATHS, (req, res) => status(req, res).catch((error) => sendError(res, error)));
 */
export function createStatusPage(options: StatusPageOptions): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const { config, board, now } = options;
  // Read once, and only when the page is on: a proxy without it never touches these files.
  const assets = config.status
    ? { html: readAsset('page.html'), js: readAsset('page.js'), css: readAsset('page.css'), icon: readAsset('icon.svg'), version: proxyVersion() }
    : undefined;

  async function snapshot(version: string): Promise<StatusSnapshot> {
    const at = now();
    const cached = await options.resolver.listCached().catch(() => undefined);
    const { streams, failures } = board.snapshot();
    return {
      version,
      auth: config.auth,
      startedAt: new Date(options.startedAt).toISOString(),
      now: new Date(at).toISOString(),
      uptimeSeconds: Math.max(0, Math.floor((at - options.startedAt) / 1000)),
      streams,
      failures,
      resolverCache: {
        total: cached?.length ?? null,
        entries: cached?.slice(0, MAX_CACHE_ENTRIES).map((entry) => ({
          episode: episodeLabel(entry.identity),
          provider: entry.stored.resolution.provider ?? null,
          expiresInSeconds: entry.freshUntil === undefined ? null : Math.max(0, Math.round((entry.freshUntil - at) / 1000)),
          resolvedAt: new Date(entry.stored.resolvedAt).toISOString(),
          ageSeconds: Math.max(0, Math.round((at - entry.stored.resolvedAt) / 1000)),
          refreshed: entry.stored.refreshed,
        })) ?? null,
      },
      redis: options.redis?.() ?? null,
    };
  }

  return async (req, res) => {
    if (assets === undefined) {
      throw new ProxyError('STRM_NOT_FOUND', 'no such endpoint: the status page is off (STRM_PROXY_STATUS=on turns it on)');
    }
    const url = req.url ?? '';
    const query = url.indexOf('?');
    const path = query === -1 ? url : url.slice(0, query);
    const params = new URLSearchParams(query === -1 ? '' : url.slice(query + 1));
    const header = req.headers['x-api-key'];
    authorizeStatus(config.auth, options.secrets, params, typeof header === 'string' ? header : undefined, Math.floor(now() / 1000));
    switch (path) {
      case '/status':
        send(res, 'text/html; charset=utf-8', assets.html.replaceAll('{{query}}', escapeAttribute(credentialQuery(params))));
        return;
      case '/status.js':
        send(res, 'text/javascript; charset=utf-8', assets.js);
        return;
      case '/status.css':
        send(res, 'text/css; charset=utf-8', assets.css);
        return;
      case '/status.svg':
        // The page's icon: without one the browser asks for /favicon.ico, outside the page's paths.
        send(res, 'image/svg+xml', assets.icon);
        return;
      default:
        send(res, 'application/json; charset=utf-8', JSON.stringify(await snapshot(assets.version)));
    }
  };
}
