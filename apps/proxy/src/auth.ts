import { apiKeyMatches, verifyParams, type UnixSeconds } from '@strm/signing';
import type { AuthMode } from './config';
import { ProxyError } from './errors';

/**
 * Checks an entry request (`/strm/stream`) before anything else is done for it.
 * - `token`: the query carries `sig` (and optional `exp`) made with the current or a previous secret;
 * - `apikey`: `apikey` in the query or the `X-Api-Key` header equals a secret;
 * - `none`: everyone is admitted (the start-up log warns about it).
 * Failures throw a 401 whose message never echoes what was sent.
 */
export function authorizeEntry(
  mode: AuthMode,
  secrets: readonly string[],
  params: URLSearchParams,
  apiKeyHeader: string | undefined,
  nowSeconds: UnixSeconds,
): void {
  if (mode === 'none') return;
  if (mode === 'apikey') {
    const key = params.get('apikey') ?? apiKeyHeader;
    if (!apiKeyMatches(key, secrets)) throw new ProxyError('STRM_UNAUTHORIZED', 'a valid API key is required (apikey parameter or X-Api-Key header)');
    return;
  }
  const verdict = verifyParams(params, secrets, { now: nowSeconds });
  if (verdict.ok) return;
  switch (verdict.reason) {
    case 'missing-signature':
      throw new ProxyError('STRM_UNAUTHORIZED', 'this URL is not signed: the sig parameter is missing');
    case 'expired':
      throw new ProxyError('STRM_SIGNATURE_EXPIRED', 'this signed URL has expired (exp is in the past)');
    case 'malformed':
      throw new ProxyError('STRM_UNAUTHORIZED', 'the signature parameters are malformed');
    case 'mismatch':
      throw new ProxyError('STRM_UNAUTHORIZED', 'the signature does not match these parameters');
  }
}
