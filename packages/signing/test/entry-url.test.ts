import { describe, expect, it } from 'vitest';
import { signParams, signedEntryUrl, verifyParams, type VerifyResult } from '@strm/signing';
import { SIGNING_VECTORS } from './vectors';

const BASE = 'http://nas:8080/strm/stream';
const IDENTITY = { site: 'aniworld.to', slug: 'rascal-does-not-dream-of-bunny-girl-senpai', s: 1, e: 3, lang: 'German Dub' };
const query = (url: string) => new URL(url).searchParams;
const HEX = '0123456789abcdef';

describe('verifyParams: the spec vectors', () => {
  it.each(SIGNING_VECTORS)('verifyParams({...$params, sig: $sig}, $secret) is ok', ({ params, secret, sig }) => {
    expect(verifyParams({ ...params, sig }, secret, { now: 1_700_000_000 })).toEqual({ ok: true });
  });
  it.each(SIGNING_VECTORS)('verifyParams of "?$canonical&sig=$sig" parsed by URL is ok', ({ canonical, secret, sig }) => {
    expect(verifyParams(query(`${BASE}?${canonical}&sig=${sig}`), secret, { now: 1_700_000_000 })).toEqual({ ok: true });
  });
  it.each(SIGNING_VECTORS)('verifyParams of vector $sig under the wrong secret is a mismatch', ({ params, sig }) => {
    expect(verifyParams({ ...params, sig }, 'wrong')).toEqual({ ok: false, reason: 'mismatch' });
  });
});

describe('verifyParams: reasons', () => {
  const sig = signParams(IDENTITY, 'k');
  const good = `e=3&lang=German+Dub&s=1&site=aniworld.to&slug=rascal-does-not-dream-of-bunny-girl-senpai`;
  const withExp = (exp: string) => `${good}&exp=${exp}&sig=${signParams(query(`${BASE}?${good}&exp=${exp}`), 'k')}`;
  it.each<[string, string, VerifyResult]>([
    ['the signed query', `${good}&sig=${sig}`, { ok: true }],
    ['sig first', `sig=${sig}&${good}`, { ok: true }],
    ['no sig', good, { ok: false, reason: 'missing-signature' }],
    ['nothing at all', '', { ok: false, reason: 'missing-signature' }],
    ['an empty sig', `${good}&sig=`, { ok: false, reason: 'malformed' }],
    ['an uppercase sig', `${good}&sig=${sig.toUpperCase()}`, { ok: false, reason: 'malformed' }],
    ['a 63-digit sig', `${good}&sig=${sig.slice(1)}`, { ok: false, reason: 'malformed' }],
    ['a 65-digit sig', `${good}&sig=${sig}0`, { ok: false, reason: 'malformed' }],
    ['a sig with a non-hex digit', `${good}&sig=${sig.slice(1)}g`, { ok: false, reason: 'malformed' }],
    ['the sig twice', `${good}&sig=${sig}&sig=${sig}`, { ok: false, reason: 'malformed' }],
    ['a decimal exp', withExp('1.5'), { ok: false, reason: 'malformed' }],
    ['a negative exp', withExp('-1'), { ok: false, reason: 'malformed' }],
    ['a signed exp', withExp('%2B1893456000'), { ok: false, reason: 'malformed' }],
    ['an empty exp', withExp(''), { ok: false, reason: 'malformed' }],
    ['a 16-digit exp', withExp('1000000000000000'), { ok: false, reason: 'malformed' }],
    ['a valid exp', withExp('1893456000'), { ok: true }],
    ['exp twice', `${withExp('1893456000')}&exp=1893456000`, { ok: false, reason: 'malformed' }],
    ['an added parameter', `${good}&provider=VOE&sig=${sig}`, { ok: false, reason: 'mismatch' }],
    ['a removed parameter', `${good.replace('&s=1', '')}&sig=${sig}`, { ok: false, reason: 'mismatch' }],
    ['a changed value', `${good.replace('e=3', 'e=4')}&sig=${sig}`, { ok: false, reason: 'mismatch' }],
    ['a repeated parameter', `${good}&e=3&sig=${sig}`, { ok: false, reason: 'mismatch' }],
    ['an added exp', `${good}&exp=1893456000&sig=${sig}`, { ok: false, reason: 'mismatch' }],
  ])('verifyParams(%s, "k")', (_, search, result) => {
    expect(verifyParams(query(`${BASE}?${search}`), 'k', { now: 1_700_000_000 })).toEqual(result);
  });

  it('a value with a lone surrogate (only possible programmatically) is malformed, not a throw', () => {
    expect(verifyParams({ e: '\uD800', sig }, 'k')).toEqual({ ok: false, reason: 'malformed' });
  });

  it('every single-character change of a signature is rejected', () => {
    const alphabet = `${HEX}ABCDEFgz+ %`;
    let tried = 0;
    for (let i = 0; i < sig.length; i++) {
      for (const c of alphabet) {
        if (c === sig[i]) continue;
        const changed = sig.slice(0, i) + c + sig.slice(i + 1);
        const result = verifyParams({ ...IDENTITY, sig: changed }, 'k');
        expect(result).toEqual({ ok: false, reason: HEX.includes(c) ? 'mismatch' : 'malformed' });
        tried++;
      }
    }
    expect(tried).toBe(64 * (alphabet.length - 1));
  });

  it('checks the signature before the expiry, so a forged expired URL is a mismatch', () => {
    const url = signedEntryUrl(BASE, IDENTITY, 'k', { expiresAt: 100 });
    expect(verifyParams(query(url), 'k', { now: 200 })).toEqual({ ok: false, reason: 'expired' });
    expect(verifyParams(query(url), 'other', { now: 200 })).toEqual({ ok: false, reason: 'mismatch' });
  });
});

describe('verifyParams: expiry boundary (exp is the last valid second, as in AniBridge)', () => {
  const exp = 1_893_456_000;
  const url = signedEntryUrl(BASE, IDENTITY, 'k', { expiresAt: exp });
  it.each<[number, VerifyResult]>([
    [exp - 1, { ok: true }],
    [exp, { ok: true }],
    [exp + 0.999, { ok: true }],
    [exp + 1, { ok: false, reason: 'expired' }],
    [exp + 86_400, { ok: false, reason: 'expired' }],
  ])('verifyParams(url with exp=1893456000, "k", { now: %d })', (now, result) => {
    expect(verifyParams(query(url), 'k', { now })).toEqual(result);
  });
  it('without exp the URL does not expire, even in the year 2286', () => {
    expect(verifyParams(query(signedEntryUrl(BASE, IDENTITY, 'k')), 'k', { now: 9_999_999_999 })).toEqual({ ok: true });
  });
  it('the default clock is Date.now(): an exp in the past is expired, one in the future is not', () => {
    const nowSeconds = Math.floor(Date.now() / 1000);
    expect(verifyParams(query(signedEntryUrl(BASE, IDENTITY, 'k', { expiresAt: nowSeconds - 60 })), 'k')).toEqual({ ok: false, reason: 'expired' });
    expect(verifyParams(query(signedEntryUrl(BASE, IDENTITY, 'k', { expiresAt: nowSeconds + 3600 })), 'k')).toEqual({ ok: true });
  });
});

describe('verifyParams: rotation', () => {
  const oldUrl = signedEntryUrl(BASE, IDENTITY, 'old-secret');
  const newUrl = signedEntryUrl(BASE, IDENTITY, 'new-secret');
  it.each<[string, string, string[], VerifyResult]>([
    ['old URL', oldUrl, ['new-secret', 'old-secret'], { ok: true }],
    ['new URL', newUrl, ['new-secret', 'old-secret'], { ok: true }],
    ['old URL after the old secret is removed', oldUrl, ['new-secret'], { ok: false, reason: 'mismatch' }],
    ['new URL before the new secret is known', newUrl, ['old-secret'], { ok: false, reason: 'mismatch' }],
  ])('verifyParams(%s, %j)', (_, url, secrets, result) => {
    expect(verifyParams(query(url), secrets)).toEqual(result);
  });
  it('the new secret signs: the new URL differs from the old one only in sig', () => {
    expect(newUrl.replace(/sig=.*/, '')).toBe(oldUrl.replace(/sig=.*/, ''));
    expect(newUrl).not.toBe(oldUrl);
  });
});

describe('signedEntryUrl', () => {
  it.each(SIGNING_VECTORS)('signedEntryUrl(BASE, $params, $secret) ends in ?$canonical&sig=$sig', ({ params, secret, canonical, sig }) => {
    const { exp, ...rest } = params as typeof params & { exp?: number };
    expect(signedEntryUrl(BASE, rest, secret, { expiresAt: exp })).toBe(`${BASE}?${canonical}&sig=${sig}`);
  });
  it.each<[string | URL, Record<string, string | number | undefined>, string]>([
    [new URL(BASE), { e: 1 }, `${BASE}?e=1&sig=${signParams({ e: 1 }, 'k')}`],
    [`${BASE}?site=s.to`, { e: 1 }, `${BASE}?e=1&site=s.to&sig=${signParams({ e: 1, site: 's.to' }, 'k')}`],
    ['http://nas:8080', { e: 1, provider: undefined }, `http://nas:8080/?e=1&sig=${signParams({ e: 1 }, 'k')}`],
    [BASE, {}, `${BASE}?sig=${signParams({}, 'k')}`],
  ])('signedEntryUrl(%j, %j, "k") is %j', (base, params, url) => {
    expect(signedEntryUrl(base, params, 'k')).toBe(url);
    expect(verifyParams(query(url), 'k')).toEqual({ ok: true });
  });
  it.each<[string, () => unknown, string]>([
    ['a relative base', () => signedEntryUrl('/strm/stream', IDENTITY, 'k'), 'baseUrl must be an absolute URL'],
    ['a base with a fragment', () => signedEntryUrl(`${BASE}#x`, IDENTITY, 'k'), 'must not have a fragment'],
    ['sig in the base', () => signedEntryUrl(`${BASE}?sig=ab`, IDENTITY, 'k'), 'must not contain "sig"'],
    ['exp in params', () => signedEntryUrl(BASE, { ...IDENTITY, exp: 1 }, 'k'), 'must not contain "exp"'],
    ['a float expiresAt', () => signedEntryUrl(BASE, IDENTITY, 'k', { expiresAt: 1.5 }), 'options.expiresAt must be'],
    ['a negative expiresAt', () => signedEntryUrl(BASE, IDENTITY, 'k', { expiresAt: -1 }), 'options.expiresAt must be'],
    ['an empty secret', () => signedEntryUrl(BASE, IDENTITY, ''), 'secret must be a non-empty string; received an empty string'],
  ])('signedEntryUrl with %s throws a TypeError', (_, call, message) => {
    expect(call).toThrow(TypeError);
    expect(call).toThrow(message);
  });
});

describe('misuse of signParams and verifyParams throws TypeError without echoing secrets', () => {
  it.each<[string, () => unknown, string]>([
    ['signParams(IDENTITY, "")', () => signParams(IDENTITY, ''), 'secret must be a non-empty string; received an empty string'],
    ['verifyParams({}, [])', () => verifyParams({}, []), 'secrets must hold at least one secret; received an empty array'],
    ['verifyParams({}, ["a", ""])', () => verifyParams({}, ['a', '']), 'secrets[1] must be a non-empty string; received an empty string'],
    ['verifyParams({}, "k", { now: NaN })', () => verifyParams({}, 'k', { now: Number.NaN }), 'options.now must be a finite'],
  ])('%s', (_, call, message) => {
    expect(call).toThrow(TypeError);
    expect(call).toThrow(message);
  });
});
