import { createHmac } from 'node:crypto';
import { apiKeyMatches, signedEntryUrl, verifyParams } from '@strm/signing';
import type { AuthMode } from './config';
import { ProxyError } from './errors';

/** Longest lifetime of a status link: a link that leaks should not open the page for long. */
export const MAX_STATUS_LINK_TTL_SECONDS = 30 * 24 * 3600;

/** The parameters a status link carries (all signed) and the API key: what the page passes on. */
const CREDENTIAL_PARAMS = ['scope', 'exp', 'sig', 'apikey'] as const;

/**
 * The key that signs status links, derived from a proxy secret. A key of its own keeps the two
 * kinds of signed URL apart: a `.strm` URL (handed to every media server) never opens the status
 * page, and a status link never plays an episode.
 */
export function statusLinkKey(secret: string): string {
  return createHmac('sha256', secret).update('strm-proxy status link v1').digest('base64url');
}

/**
 * A signed link to `<baseUrl>/status` that expires `ttlSeconds` after `nowSeconds`.
 *
 * @example
 * statusLink('http://nas:8080', 'secret', 3600, 1767225600);
 * // 'http://nas:8080/status?scope=status&exp=1767229200&sig=5f0c…'
 */
export function statusLink(baseUrl: string, secret: string, ttlSeconds: number, nowSeconds: number): string {
  const base = new URL(baseUrl);
  const page = new URL('status', base.href.endsWith('/') ? base.href : `${base.href}/`);
  return signedEntryUrl(page.href, { scope: 'status' }, statusLinkKey(secret), { expiresAt: Math.floor(nowSeconds) + ttlSeconds });
}

const unauthorized = (message: string) => new ProxyError('STRM_UNAUTHORIZED', message, { headers: { 'referrer-policy': 'no-referrer' } });

/**
 * Admits a request for `/status`, `/status.json` and the page's script and style: a signed,
 * unexpired status link (`strm-proxy status-url`) made with the current or a previous secret, in
 * every auth mode; in `apikey` mode also the API key (`apikey` parameter or `X-Api-Key` header).
 * Every comparison is constant-time; a failure is a 401 that never echoes what was sent.
 */
export function authorizeStatus(mode: AuthMode, secrets: readonly string[], params: URLSearchParams, apiKeyHeader: string | undefined, nowSeconds: number): void {
  if (secrets.length === 0) throw unauthorized('the status page needs STRM_PROXY_SECRET');
  if (mode === 'apikey' && (params.has('apikey') || apiKeyHeader !== undefined)) {
    if (apiKeyMatches(params.get('apikey') ?? apiKeyHeader, secrets)) return;
    throw unauthorized('a valid API key is required (apikey parameter or X-Api-Key header)');
  }
  if (!params.has('sig')) {
    throw unauthorized(mode === 'apikey'
      ? 'the status page needs the API key (apikey parameter or X-Api-Key header) or a link from `strm-proxy status-url`'
      : 'the status page needs a signed link: run `strm-proxy status-url --base-url <url>`');
  }
  if (params.get('scope') !== 'status' || !params.has('exp')) throw unauthorized('this is not a status link: make one with `strm-proxy status-url`');
  const verdict = verifyParams(params, secrets.map(statusLinkKey), { now: nowSeconds });
  if (verdict.ok) return;
  if (verdict.reason === 'expired') throw unauthorized('this status link has expired: make a new one with `strm-proxy status-url`');
  throw unauthorized('the signature of this status link does not match');
}

/** The credentials of a request's query, to hand on from the page to its script and data. */
export function credentialQuery(params: URLSearchParams): string {
  // In their order: the signature of a link does not depend on it, but the page's URL then reads the same.
  const kept = new URLSearchParams([...params].filter(([name]) => (CREDENTIAL_PARAMS as readonly string[]).includes(name)));
  const text = kept.toString();
  return text === '' ? '' : `?${text}`;
}
