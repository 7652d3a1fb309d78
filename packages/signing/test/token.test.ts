import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { randomText } from '../../../tools/testing/random-text';
import { COMPRESSED_TOKEN_VERSION, MAX_TOKEN_LENGTH, SigningError, TOKEN_VERSION, createTokenSealer, type OpenResult } from '@strm/signing';
import { realisticPayload } from './realistic-payload';

const NOW = 1_700_000_000;
/** NOW + 86400 (the default lifetime) rounded down to its bucket, an hour: 1_700_086_400 - 800. */
const DAY_EXPIRY = 1_700_085_600;
/** The README's example token: sealed with a synthetic IV, it is the same on every run and every machine. */
const DETERMINISTIC_VECTOR = 'AREQZf5vkgu4K34mJd32KR-7822N7N3Jcwab_M77d8eeLLkj94e9OuuD9ij8K1rl_8dLMYubFDaWbX5i5JhdvOwP_hi6LWHPEydgD5aNIFOxBU2xmJ4IM5VWM6Kfyg';
const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const bytesOf = (token: string) => Buffer.from(token, 'base64url');

describe('seal → open round trips', () => {
  const sealer = createTokenSealer({ secret: 'proxy-secret' });
  it.each<[string, unknown]>([
    ['an object', { url: 'https://cdn.example/seg-1.ts', headers: { Referer: 'https://x.example/' }, kind: 'segment' }],
    ['unicode and emoji', { title: 'Bunny Girl Senpai — 青春ブタ野郎 😀', path: 'a+b&c=d~e*f g' }],
    ['a string', 'hello'],
    ['a number', 42],
    ['null', null],
    ['an empty object', {}],
    ['an array', [1, 'two', { three: 3 }]],
    ['a large payload', { blob: 'x'.repeat(20_000) }],
  ])('open(seal(%s))', (_, payload) => {
    const token = sealer.seal(payload, { now: NOW });
    expect(sealer.open(token, { now: NOW })).toEqual({ ok: true, payload, expiresAt: DAY_EXPIRY });
  });

  it('a second sealer with the same secret opens the first one’s tokens (stateless)', () => {
    const token = sealer.seal({ a: 1 }, { now: NOW });
    expect(createTokenSealer({ secret: 'proxy-secret' }).open(token, { now: NOW })).toMatchObject({ ok: true, payload: { a: 1 } });
  });

  it('hides the payload: no plaintext of it appears in the token or its bytes', () => {
    const token = sealer.seal({ url: 'https://cdn.example/SECRETPATH' });
    expect(token).not.toContain('SECRETPATH');
    expect(bytesOf(token).toString('latin1')).not.toContain('SECRETPATH');
  });

});

describe('deterministic tokens: the same link seals to the same token (synthetic IV, bucketed expiry)', () => {
  const sealer = createTokenSealer({ secret: 'proxy-secret' });
  const link = { u: 'https://cdn.example/seg-1.ts', h: { Referer: 'https://x.example/' }, k: 'segment' };
  const ivOf = (token: string) => bytesOf(token).subarray(5, 17).toString('hex');

  it('seal(p) twice, by two sealers of one secret, anywhere in one hour bucket, is one token', () => {
    const token = sealer.seal(link, { now: NOW });
    expect(sealer.seal(link, { now: NOW })).toBe(token);
    expect(createTokenSealer({ secret: 'proxy-secret' }).seal(structuredClone(link), { now: NOW + 0.9 })).toBe(token);
    // NOW + 86400 lies 800 s into its bucket [1_700_085_600, 1_700_089_200): seals from NOW - 800 to NOW + 2799 share it.
    expect(sealer.seal(link, { now: NOW - 800 })).toBe(token);
    expect(sealer.seal(link, { now: NOW + 2799 })).toBe(token);
  });

  it.each<[string, unknown, number]>([
    ['another header value', { ...link, h: { Referer: 'https://y.example/' } }, NOW],
    ['one more header', { ...link, h: { ...link.h, Origin: 'https://x.example' } }, NOW],
    ['another kind (context)', { ...link, k: 'key' }, NOW],
    ['another URL', { ...link, u: 'https://cdn.example/seg-2.ts' }, NOW],
    ['the next expiry bucket', link, NOW + 2800],
    ['the previous expiry bucket', link, NOW - 801],
  ])('%s gives another token and another IV', (_, payload, now) => {
    const token = sealer.seal(link, { now: NOW });
    const other = sealer.seal(payload, { now });
    expect(other).not.toBe(token);
    expect(ivOf(other)).not.toBe(ivOf(token));
  });

  it('another secret gives another token for the same payload (the IV key is derived from the secret)', () => {
    const token = sealer.seal(link, { now: NOW });
    expect(ivOf(createTokenSealer({ secret: 'other-secret' }).seal(link, { now: NOW }))).not.toBe(ivOf(token));
  });

  it('no IV is shared by two different plaintexts: 20,000 distinct payloads over 40 buckets give 20,000 distinct IVs', () => {
    const ivs = new Set<string>();
    for (let i = 0; i < 20_000; i++) ivs.add(ivOf(sealer.seal({ ...link, u: `https://cdn.example/seg-${i % 500}.ts` }, { now: NOW + 3600 * Math.floor(i / 500) })));
    expect(ivs.size).toBe(20_000);
  });

  it('the IV depends on the encrypted bytes: a version 2 (deflated) token and its payload sealed as version 1 have different IVs', () => {
    const long = { u: `https://cdn.example/${'a'.repeat(2000)}` };
    const deflated = sealer.seal(long, { now: NOW });
    const plain = createTokenSealer({ secret: 'proxy-secret', compressAbove: Infinity }).seal(long, { now: NOW });
    expect(bytesOf(deflated)[0]).toBe(COMPRESSED_TOKEN_VERSION);
    expect(bytesOf(plain)[0]).toBe(TOKEN_VERSION);
    expect(ivOf(deflated)).not.toBe(ivOf(plain));
  });

  it('test vector: this secret, payload and clock seal to exactly this token (README)', () => {
    const vector = createTokenSealer({ secret: 'proxy-secret', previousSecrets: ['old-secret'] });
    const token = vector.seal({ url: 'https://cdn.example/seg-1.ts', kind: 'segment' }, { now: 1_700_000_000 });
    expect(token).toBe(DETERMINISTIC_VECTOR);
    expect(readFileSync(new URL('../README.md', import.meta.url), 'utf8')).toContain(`'${DETERMINISTIC_VECTOR}'`);
    expect(vector.open(token, { now: NOW })).toEqual({ ok: true, payload: { url: 'https://cdn.example/seg-1.ts', kind: 'segment' }, expiresAt: DAY_EXPIRY });
  });
});

describe('expiry buckets: a twenty-fourth of the lifetime, at least a second', () => {
  it.each<[number, number]>([
    [86_400, 3600],
    [900, 37],
    [60, 2],
    [47, 1],
    [1, 1],
  ])('a lifetime of %d s is never exceeded and never cut by a bucket (%d s) or more', (ttl, bucket) => {
    const sealer = createTokenSealer({ secret: 's', ttlSeconds: ttl });
    for (let now = NOW; now < NOW + 2 * bucket + 3; now++) {
      const opened = sealer.open(sealer.seal('x', { now }), { now });
      expect(opened.ok).toBe(true);
      if (!opened.ok) continue;
      expect(opened.expiresAt % bucket).toBe(0);
      expect(opened.expiresAt).toBeLessThanOrEqual(now + ttl);
      expect(opened.expiresAt).toBeGreaterThan(now + ttl - bucket);
    }
  });
});

describe('token format', () => {
  const sealer = createTokenSealer({ secret: 'proxy-secret' });
  const payload = { u: 'https://cdn.example/a.ts' };
  const token = sealer.seal(payload, { now: NOW });
  const bytes = bytesOf(token);
  it('is base64url without padding, in its one canonical spelling', () => {
    expect(token).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(bytes.toString('base64url')).toBe(token);
  });
  it(`starts with the version byte ${TOKEN_VERSION} and a 4-byte key id that is the same for every token of a secret`, () => {
    expect(bytes[0]).toBe(TOKEN_VERSION);
    expect(bytesOf(sealer.seal('other')).subarray(0, 5)).toEqual(bytes.subarray(0, 5));
    expect(bytesOf(createTokenSealer({ secret: 'another' }).seal('other')).subarray(1, 5)).not.toEqual(bytes.subarray(1, 5));
  });
  it('is 1 + 4 + 12 + 6 + 16 = 39 bytes plus the JSON of the payload', () => {
    expect(bytes.length).toBe(39 + Buffer.byteLength(JSON.stringify(payload)));
  });
  it('stays under 1.5 KB for a 500-character upstream URL, three headers, a kind and an episode identity', () => {
    const realistic = realisticPayload;
    const { url } = realistic;
    expect(url).toHaveLength(500);
    const sealed = sealer.seal(realistic);
    expect(sealed.length).toBe(1210);
    expect(sealed.length).toBeLessThan(1536);
  });
});

describe('tampering: every change is rejected', () => {
  const sealer = createTokenSealer({ secret: 'proxy-secret' });
  const token = sealer.seal({ url: 'https://cdn.example/seg-1.ts', kind: 'segment' }, { now: NOW });
  const bytes = bytesOf(token);

  it(`every single-byte change of the ${bytes.length} token bytes (XOR 0x01 and 0x80) is rejected with the right reason`, () => {
    const reasons = new Map<string, number>();
    for (let i = 0; i < bytes.length; i++) {
      for (const mask of [0x01, 0x80]) {
        const changed = Buffer.from(bytes);
        changed[i]! ^= mask;
        const result = sealer.open(changed.toString('base64url'), { now: NOW });
        const expected = i === 0 ? 'malformed' : i < 5 ? 'unknown-key' : 'invalid';
        expect(result, `byte ${i} ^ ${mask}`).toEqual({ ok: false, reason: expected });
        reasons.set(expected, (reasons.get(expected) ?? 0) + 1);
      }
    }
    expect(Object.fromEntries(reasons)).toEqual({ malformed: 2, 'unknown-key': 8, invalid: 2 * (bytes.length - 5) });
  });

  it('every single-character change of the token (each position, all 63 other base64url characters) is rejected', () => {
    let tried = 0;
    for (let i = 0; i < token.length; i++) {
      for (const c of B64URL) {
        if (c === token[i]) continue;
        const result = sealer.open(token.slice(0, i) + c + token.slice(i + 1), { now: NOW });
        expect(result.ok, `position ${i} → ${c}`).toBe(false);
        tried++;
      }
    }
    expect(tried).toBe(token.length * 63);
  });

  it.each<[string, string, OpenResult<unknown>]>([
    ['the empty string', '', { ok: false, reason: 'malformed' }],
    ['padding', `${token}==`, { ok: false, reason: 'malformed' }],
    ['a "+" of standard base64', `${token.slice(0, -1)}+`, { ok: false, reason: 'malformed' }],
    ['a "/" of standard base64', `/${token.slice(1)}`, { ok: false, reason: 'malformed' }],
    ['a space inside', `${token.slice(0, 10)} ${token.slice(10)}`, { ok: false, reason: 'malformed' }],
    ['one character cut', token.slice(0, -1), { ok: false, reason: 'malformed' }],
    ['its last byte cut', bytes.subarray(0, -1).toString('base64url'), { ok: false, reason: 'invalid' }],
    ['a byte appended', Buffer.concat([bytes, Buffer.of(0)]).toString('base64url'), { ok: false, reason: 'invalid' }],
    ['only the header', bytes.subarray(0, 38).toString('base64url'), { ok: false, reason: 'malformed' }],
    ['an unknown version', Buffer.concat([Buffer.of(3), bytes.subarray(1)]).toString('base64url'), { ok: false, reason: 'malformed' }],
    ['its version relabelled 1 → 2 (the version is authenticated)', Buffer.concat([Buffer.of(2), bytes.subarray(1)]).toString('base64url'), { ok: false, reason: 'invalid' }],
    ['longer than MAX_TOKEN_LENGTH', 'A'.repeat(MAX_TOKEN_LENGTH + 4), { ok: false, reason: 'malformed' }],
  ])('open(token with %s)', (_, changed, result) => {
    expect(sealer.open(changed, { now: NOW })).toEqual(result);
  });

  it('the wrong secret: unknown-key (its key id differs)', () => {
    expect(createTokenSealer({ secret: 'wrong' }).open(token, { now: NOW })).toEqual({ ok: false, reason: 'unknown-key' });
  });

  it('a token forged with the right key id but another key is invalid', () => {
    const forger = createTokenSealer({ secret: 'forger' });
    const forged = bytesOf(forger.seal({ url: 'https://evil.example/' }, { now: NOW }));
    bytes.copy(forged, 1, 1, 5); // borrow the victim's key id; the tag no longer matches anything
    expect(sealer.open(forged.toString('base64url'), { now: NOW })).toEqual({ ok: false, reason: 'invalid' });
  });
});

describe('expiry (expiresAt is the first second at which the token is refused)', () => {
  const sealer = createTokenSealer({ secret: 'proxy-secret', ttlSeconds: 900 });
  const token = sealer.seal('x', { now: NOW + 0.75 });
  // NOW + 900 rounded down to its bucket of 900 / 24 = 37 s: NOW + 890.
  it.each<[number, OpenResult<string>]>([
    [NOW, { ok: true, payload: 'x', expiresAt: NOW + 890 }],
    [NOW + 889.999, { ok: true, payload: 'x', expiresAt: NOW + 890 }],
    [NOW + 890, { ok: false, reason: 'expired' }],
    [NOW + 86_400, { ok: false, reason: 'expired' }],
  ])('open(token sealed at NOW + 0.75 with ttl 900, { now: %d })', (now, result) => {
    expect(sealer.open(token, { now })).toEqual(result);
  });
  it('seal(x, { ttlSeconds: 5 }) overrides the sealer’s lifetime', () => {
    expect(sealer.open(sealer.seal('x', { now: NOW, ttlSeconds: 5 }), { now: NOW })).toMatchObject({ expiresAt: NOW + 5 });
    // Its bucket follows its own lifetime: 3600 / 24 = 150 s.
    expect(sealer.open(sealer.seal('x', { now: NOW, ttlSeconds: 3600 }), { now: NOW })).toMatchObject({ expiresAt: NOW + 3600 - ((NOW + 3600) % 150) });
  });
  it('the default lifetime is 86400 seconds and the default clock is Date.now()', () => {
    const before = Math.floor(Date.now() / 1000);
    const opened = createTokenSealer({ secret: 's' }).open(createTokenSealer({ secret: 's' }).seal('x'));
    const after = Math.floor(Date.now() / 1000);
    expect(opened.ok).toBe(true);
    if (opened.ok) {
      expect(opened.expiresAt).toBeGreaterThan(before + 86_400 - 3600);
      expect(opened.expiresAt).toBeLessThanOrEqual(after + 86_400);
    }
  });
  it('an expired token with a forged tag is invalid, not expired: authenticity is checked first', () => {
    const changed = bytesOf(token);
    changed[changed.length - 1]! ^= 1;
    expect(sealer.open(changed.toString('base64url'), { now: NOW + 10_000 })).toEqual({ ok: false, reason: 'invalid' });
  });
});

describe('rotation', () => {
  const before = createTokenSealer({ secret: 'old' });
  const after = createTokenSealer({ secret: 'new', previousSecrets: ['old'] });
  const removed = createTokenSealer({ secret: 'newest', previousSecrets: ['new'] });
  const oldToken = before.seal('from old', { now: NOW });
  const newToken = after.seal('from new', { now: NOW });
  it.each<[string, ReturnType<typeof createTokenSealer>, string, OpenResult<unknown>]>([
    ['a token of the old secret, opened after rotation', after, oldToken, { ok: true, payload: 'from old', expiresAt: DAY_EXPIRY }],
    ['a token of the new secret, opened after rotation', after, newToken, { ok: true, payload: 'from new', expiresAt: DAY_EXPIRY }],
    ['a token of the new secret, opened by a sealer that only knows the old', before, newToken, { ok: false, reason: 'unknown-key' }],
    ['a token of a removed secret', removed, oldToken, { ok: false, reason: 'unknown-key' }],
    ['a token of the now previous secret', removed, newToken, { ok: true, payload: 'from new', expiresAt: DAY_EXPIRY }],
  ])('%s', (_, sealer, token, result) => {
    expect(sealer.open(token, { now: NOW })).toEqual(result);
  });
  it('the new secret seals: after rotation tokens carry the new key id, not the old one', () => {
    const keyId = (t: string) => bytesOf(t).subarray(1, 5).toString('hex');
    expect(keyId(newToken)).toBe(keyId(createTokenSealer({ secret: 'new' }).seal('x')));
    expect(keyId(newToken)).not.toBe(keyId(oldToken));
  });
  it('a secret repeated in previousSecrets changes nothing', () => {
    const twice = createTokenSealer({ secret: 'new', previousSecrets: ['new', 'old', 'old'] });
    expect(twice.open(oldToken, { now: NOW })).toMatchObject({ ok: true });
    expect(twice.open(newToken, { now: NOW })).toMatchObject({ ok: true });
  });
});

describe('misuse and failures', () => {
  const sealer = createTokenSealer({ secret: 's' });
  it.each<[string, () => unknown, string]>([
    ['createTokenSealer({ secret: "" })', () => createTokenSealer({ secret: '' }), 'options.secret must be a non-empty string; received an empty string'],
    ['createTokenSealer({ secret: "s", previousSecrets: [""] })', () => createTokenSealer({ secret: 's', previousSecrets: [''] }), 'options.previousSecrets[0] must be a non-empty string'],
    ['createTokenSealer({ secret: "s", ttlSeconds: 0 })', () => createTokenSealer({ secret: 's', ttlSeconds: 0 }), 'options.ttlSeconds must be a positive integer number of seconds; received 0'],
    ['createTokenSealer({ secret: "s", ttlSeconds: 1.5 })', () => createTokenSealer({ secret: 's', ttlSeconds: 1.5 }), 'received 1.5'],
    ['seal("x", { ttlSeconds: -1 })', () => sealer.seal('x', { ttlSeconds: -1 }), 'options.ttlSeconds must be a positive integer'],
    ['seal("x", { now: -1 })', () => sealer.seal('x', { now: -1 }), 'options.now must be a finite, non-negative number'],
    ['seal("x", { now: 1e20 })', () => sealer.seal('x', { now: 1e20 }), 'the expiry must fit in 48 bits'],
    ['open(42)', () => sealer.open(42 as unknown as string), 'token must be a string; received number'],
    ['open("x", { now: Infinity })', () => sealer.open('x', { now: Number.POSITIVE_INFINITY }), 'options.now must be a finite'],
  ])('%s throws a TypeError', (_, call, message) => {
    expect(call).toThrow(TypeError);
    expect(call).toThrow(message);
  });

  it.each<[string, unknown]>([
    ['undefined', undefined],
    ['a function', () => 1],
    ['a BigInt', { size: 10n }],
    ['a cycle', (() => { const a: Record<string, unknown> = {}; a.self = a; return a; })()],
  ])('seal(%s) throws SigningError STRM_SIGNING_UNSERIALISABLE_PAYLOAD', (_, payload) => {
    let caught: unknown;
    try {
      sealer.seal(payload);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(SigningError);
    expect(caught).toMatchObject({ name: 'SigningError', code: 'STRM_SIGNING_UNSERIALISABLE_PAYLOAD' });
    if (typeof payload === 'object') expect((caught as Error).cause).toBeInstanceOf(TypeError);
  });
});

const URL_CHARACTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~';
const PRINTABLE = Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)).join('');

describe('version 2: long payloads are deflated before sealing', () => {
  const sealer = createTokenSealer({ secret: 'proxy-secret' });

  it('a payload of up to 1024 bytes of JSON stays version 1; a longer one that shrinks is version 2', () => {
    const short = { url: `https://cdn.example/${'a'.repeat(1000 - 30)}` };
    expect(Buffer.byteLength(JSON.stringify(short))).toBeLessThanOrEqual(1024);
    expect(bytesOf(sealer.seal(short))[0]).toBe(TOKEN_VERSION);
    const long = { url: `https://cdn.example/${'a'.repeat(2000)}` };
    const token = sealer.seal(long, { now: NOW });
    expect(bytesOf(token)[0]).toBe(COMPRESSED_TOKEN_VERSION);
    expect(token.length).toBeLessThan(200);
    expect(sealer.open(token, { now: NOW })).toEqual({ ok: true, payload: long, expiresAt: DAY_EXPIRY });
  });

  it('a payload that deflate does not shrink stays version 1', () => {
    const eager = createTokenSealer({ secret: 'proxy-secret', compressAbove: 0 });
    expect(bytesOf(eager.seal('x'))[0]).toBe(TOKEN_VERSION);
    expect(eager.open(eager.seal('x'))).toMatchObject({ ok: true, payload: 'x' });
  });

  it('compressAbove: 0 deflates whatever shrinks, Infinity never deflates', () => {
    const payload = { url: `https://cdn.example/${'a'.repeat(200)}` };
    expect(bytesOf(createTokenSealer({ secret: 's', compressAbove: 0 }).seal(payload))[0]).toBe(COMPRESSED_TOKEN_VERSION);
    expect(bytesOf(createTokenSealer({ secret: 's', compressAbove: Infinity }).seal({ blob: 'x'.repeat(20_000) }))[0]).toBe(TOKEN_VERSION);
  });

  it.each([-1, Number.NaN, '1024', null])('compressAbove: %s is a TypeError', (value) => {
    expect(() => createTokenSealer({ secret: 's', compressAbove: value as number })).toThrow(TypeError);
  });

  it('a token of the previous format (version 1, from the README before version 2 existed) still opens', () => {
    const old = 'AREQZf404e7rkzyihHN0ejX8jAJ0JmKpZD7lzLkEJ3HBewSo62QfZIupTMgl9i7Fv-nPLWctZ-hMUp2POlbT6SlpKeRGyDNKQ7TDwHfTnnGvA6kdeOE4cOneRY-G_A';
    const opener = createTokenSealer({ secret: 'proxy-secret', previousSecrets: ['old-secret'] });
    expect(opener.open(old, { now: NOW })).toEqual({ ok: true, payload: { url: 'https://cdn.example/seg-1.ts', kind: 'segment' }, expiresAt: 1_700_086_400 });
  });

  it('a version 2 token relabelled as version 1 is invalid, and every single-byte change of it is rejected', () => {
    const token = sealer.seal({ url: `https://cdn.example/${'a'.repeat(2000)}` }, { now: NOW });
    const bytes = bytesOf(token);
    expect(sealer.open(Buffer.concat([Buffer.of(TOKEN_VERSION), bytes.subarray(1)]).toString('base64url'), { now: NOW })).toEqual({ ok: false, reason: 'invalid' });
    for (let i = 5; i < bytes.length; i++) {
      const changed = Buffer.from(bytes);
      changed[i]! ^= 0x01;
      expect(sealer.open(changed.toString('base64url'), { now: NOW }), `byte ${i}`).toEqual({ ok: false, reason: 'invalid' });
    }
  });

  it('a genuine token that inflates past 1 MiB is refused (invalid), not inflated without bound', () => {
    const bomb = createTokenSealer({ secret: 'proxy-secret', compressAbove: 0 }).seal('x'.repeat(2 * 1024 * 1024), { now: NOW });
    expect(bomb.length).toBeLessThan(8000);
    expect(sealer.open(bomb, { now: NOW })).toEqual({ ok: false, reason: 'invalid' });
  });

  it('the worst case the proxy must carry: a 2 KB upstream URL and 1 KB of headers, all random characters, is a token of at most 3600 characters', () => {
    const payload = {
      u: `https://cdn.example.net/${randomText(2048 - 24, URL_CHARACTERS, 1)}`,
      h: { Cookie: randomText(1024 - 6, PRINTABLE, 2) },
      k: 'playlist',
      i: ['aniworld.to', 'rascal-does-not-dream-of-bunny-girl-senpai', 1, 3, 'German Dub', 'VOE'],
      e: 'abcdefgh',
      r: [0, 12],
    };
    const plainLength = Math.ceil((39 + Buffer.byteLength(JSON.stringify(payload))) * 4 / 3);
    const token = sealer.seal(payload, { now: NOW });
    console.log(`worst case: ${plainLength} characters as version 1, ${token.length} as version 2`);
    expect(plainLength).toBeGreaterThan(4096);
    expect(bytesOf(token)[0]).toBe(COMPRESSED_TOKEN_VERSION);
    expect(token.length).toBeLessThanOrEqual(3600);
    expect(sealer.open(token, { now: NOW })).toMatchObject({ ok: true, payload });
  });
});
