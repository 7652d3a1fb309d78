import { createHmac, timingSafeEqual } from 'node:crypto';
import { IllFormedTextError, canonicalOf, toParamPairs, type ParamInput, type ParamPair } from './canonical';
import { secretList } from './secrets';
import type { UnixSeconds } from './time';

/**
 * The outcome of {@link verifyParams}.
 * - `missing-signature`: no `sig` parameter at all.
 * - `malformed`: `sig` is not exactly 64 lowercase hex digits, appears more than once, or `exp` is
 *   not a plain decimal integer (or appears more than once), or a value is not well-formed Unicode.
 * - `mismatch`: the signature does not match any of the secrets.
 * - `expired`: the signature is genuine but `exp` lies in the past.
 *
 * @example
 * ```ts
 * const result: VerifyResult = verifyParams(searchParams, secrets);
 * if (!result.ok) console.log(result.reason); // 'mismatch'
 * ```
 */
export type VerifyResult =
  | { ok: true }
  | { ok: false; reason: 'missing-signature' | 'malformed' | 'expired' | 'mismatch' };

/**
 * Why {@link verifyParams} refused, as a type of its own.
 *
 * @example
 * ```ts
 * const status: Record<VerifyFailureReason, number> = { 'missing-signature': 401, malformed: 401, mismatch: 401, expired: 401 };
 * ```
 */
export type VerifyFailureReason = Extract<VerifyResult, { ok: false }>['reason'];

const SIGNATURE = /^[0-9a-f]{64}$/;
// At most 15 digits keeps every accepted value a safe integer (Number.MAX_SAFE_INTEGER has 16).
const EXPIRY = /^[0-9]{1,15}$/;

function hmacHex(secret: string, canonical: string): string {
  return createHmac('sha256', secret).update(canonical, 'utf8').digest('hex');
}

function checkUnixSeconds(value: unknown, option: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new TypeError(`${option} must be a finite, non-negative number of Unix seconds; received ${String(value)}`);
  }
  return value;
}

/**
 * Signs a parameter set: lowercase hex HMAC-SHA256 of {@link canonicalQuery} under `secret`. Any
 * `sig` among the parameters is ignored, so a signed URL can be signed again.
 *
 * @example
 * ```ts
 * signParams({ site: 'aniworld.to', slug: 'rascal-does-not-dream-of-bunny-girl-senpai', s: 1, e: 3, lang: 'German Dub' }, 's3cr3t');
 * // 'ead50965daf03da6260bd49a1030b01b371691d0bff6d844d8312fa1798a156c'
 * ```
 */
export function signParams(params: ParamInput, secret: string): string {
  const [key] = secretList(secret, 'secret');
  return hmacHex(key!, canonicalOf(toParamPairs(params)));
}

/**
 * Verifies the `sig` (and the optional `exp`) of an entry URL's parameters against one secret or
 * several (rotation: the current one first, then previous ones). The comparison takes the same
 * time wherever the signatures differ. The signature is checked before the expiry, so `expired`
 * is only ever reported for a URL that was genuinely signed.
 *
 * `exp` follows AniBridge: it is the last Unix second in which the URL is valid, so the URL is
 * expired once `Math.floor(now) > exp`. Without `exp` the URL never expires.
 *
 * @example
 * ```ts
 * const query = new URL('http://nas:8080/strm/stream?e=2&exp=1893456000&lang=German+Dub&provider=VOE&s=1&site=s.to&slug=9-1-1&sig=ff4a2e930b5998020ae4b56f95cae18bda963cf7da036f24071cef547865cd33').searchParams;
 * verifyParams(query, 's3cr3t', { now: 1_700_000_000 }); // { ok: true }
 * verifyParams(query, 's3cr3t', { now: 1_893_456_001 }); // { ok: false, reason: 'expired' }
 * verifyParams(query, 'other');                          // { ok: false, reason: 'mismatch' }
 * ```
 */
export function verifyParams(
  params: ParamInput,
  secrets: string | readonly string[],
  options: { now?: UnixSeconds } = {},
): VerifyResult {
  const keys = secretList(secrets, 'secrets');
  const now = options.now === undefined ? Date.now() / 1000 : checkUnixSeconds(options.now, 'options.now');
  let pairs: ParamPair[];
  try {
    pairs = toParamPairs(params);
  } catch (error) {
    // Values come from a request: unencodable text is a bad request, not a programming error.
    if (error instanceof IllFormedTextError) return { ok: false, reason: 'malformed' };
    throw error;
  }
  const signatures = pairs.filter(([name]) => name === 'sig');
  const expiries = pairs.filter(([name]) => name === 'exp');
  if (signatures.length === 0) return { ok: false, reason: 'missing-signature' };
  const signature = signatures[0]![1];
  if (signatures.length > 1 || !SIGNATURE.test(signature)) return { ok: false, reason: 'malformed' };
  if (expiries.length > 1 || (expiries.length === 1 && !EXPIRY.test(expiries[0]![1]))) {
    return { ok: false, reason: 'malformed' };
  }
  const received = Buffer.from(signature, 'hex');
  const canonical = canonicalOf(pairs);
  let matched = false;
  // Every secret is tried, without stopping early, so timing does not tell which one matched.
  for (const key of keys) {
    matched = timingSafeEqual(received, createHmac('sha256', key).update(canonical, 'utf8').digest()) || matched;
  }
  if (!matched) return { ok: false, reason: 'mismatch' };
  if (expiries.length === 1 && Math.floor(now) > Number(expiries[0]![1])) return { ok: false, reason: 'expired' };
  return { ok: true };
}

/**
 * Builds a complete signed entry URL for a `.strm` file: the base URL, then the canonical query
 * (with `exp` when `options.expiresAt` is given) and `&sig=` last. Parameters already in the base
 * URL's query are kept and signed too; `undefined` values are left out.
 *
 * Throws a `TypeError` for a base URL with a fragment or with `sig`/`exp` in its query, for `sig`
 * or `exp` among `params` (use `options.expiresAt`), and for an `expiresAt` that is not a
 * non-negative safe integer.
 *
 * @example
 * ```ts
 * signedEntryUrl('http://nas:8080/strm/stream', { site: 'aniworld.to', slug: 'rascal-does-not-dream-of-bunny-girl-senpai', s: 1, e: 3, lang: 'German Dub' }, 's3cr3t');
 * // 'http://nas:8080/strm/stream?e=3&lang=German+Dub&s=1&site=aniworld.to&slug=rascal-does-not-dream-of-bunny-girl-senpai&sig=ead50965daf03da6260bd49a1030b01b371691d0bff6d844d8312fa1798a156c'
 * ```
 */
export function signedEntryUrl(
  baseUrl: string | URL,
  params: Record<string, string | number | undefined>,
  secret: string,
  options: { expiresAt?: UnixSeconds } = {},
): string {
  const [key] = secretList(secret, 'secret');
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch (cause) {
    throw new TypeError(`baseUrl must be an absolute URL; received ${JSON.stringify(String(baseUrl).slice(0, 80))}`, { cause });
  }
  if (url.hash !== '') throw new TypeError(`baseUrl must not have a fragment; received one ending in ${JSON.stringify(url.hash.slice(0, 40))}`);
  const pairs: ParamPair[] = [...toParamPairs(url.searchParams), ...toParamPairs(params)];
  for (const [name] of pairs) {
    if (name === 'sig' || name === 'exp') {
      throw new TypeError(`baseUrl and params must not contain ${JSON.stringify(name)}; it is added here (use options.expiresAt for exp)`);
    }
  }
  if (options.expiresAt !== undefined) {
    if (!Number.isSafeInteger(options.expiresAt) || options.expiresAt < 0) {
      throw new TypeError(`options.expiresAt must be a non-negative integer of Unix seconds; received ${String(options.expiresAt)}`);
    }
    pairs.push(['exp', String(options.expiresAt)]);
  }
  const canonical = canonicalOf(pairs);
  url.search = '';
  return `${url.href}?${canonical === '' ? '' : `${canonical}&`}sig=${hmacHex(key!, canonical)}`;
}
