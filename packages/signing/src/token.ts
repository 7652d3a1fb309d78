import { createCipheriv, createDecipheriv, createHmac, createSecretKey, hkdfSync, type KeyObject } from 'node:crypto';
import { constants as zlibConstants, deflateRawSync, inflateRawSync } from 'node:zlib';
import { SigningError } from './errors';
import { secretList } from './secrets';
import type { UnixSeconds } from './time';

/**
 * Options of {@link createTokenSealer}.
 *
 * @example
 * ```ts
 * const options: TokenSealerOptions = { secret: 'new', previousSecrets: ['old'], ttlSeconds: 86_400 };
 * ```
 */
export interface TokenSealerOptions {
  /** Seals new tokens, and opens them. */
  secret: string;
  /** Still open tokens (rotation); never seal. */
  previousSecrets?: readonly string[];
  /** Lifetime of a sealed token in seconds; default 86400 (a paused episode must still play). */
  ttlSeconds?: number;
  /**
   * Payloads whose JSON is longer than this many bytes are deflated before sealing (a version 2
   * token) when that makes them shorter; default 1024. `Infinity` never compresses.
   */
  compressAbove?: number;
}

/**
 * The outcome of {@link TokenSealer.open}.
 * - `malformed`: not base64url without padding, too short or too long, or an unknown version.
 * - `unknown-key`: sealed under a key id that none of the configured secrets has (for example a
 *   secret that was removed from rotation).
 * - `invalid`: the key id is known but authentication failed: the token was changed or forged.
 * - `expired`: genuine, but `now >= expiresAt`.
 *
 * @example
 * ```ts
 * const result: OpenResult<{ url: string }> = sealer.open(token);
 * if (result.ok) console.log(result.payload.url, result.expiresAt);
 * else console.log(result.reason); // 'expired'
 * ```
 */
export type OpenResult<T> =
  | { ok: true; payload: T; expiresAt: UnixSeconds }
  | { ok: false; reason: 'malformed' | 'unknown-key' | 'invalid' | 'expired' };

/**
 * Why {@link TokenSealer.open} refused, as a type of its own.
 *
 * @example
 * ```ts
 * const logLevel: Record<OpenFailureReason, 'debug' | 'warn'> = { malformed: 'warn', 'unknown-key': 'debug', invalid: 'warn', expired: 'debug' };
 * ```
 */
export type OpenFailureReason = Extract<OpenResult<unknown>, { ok: false }>['reason'];

/**
 * Seals payloads into opaque, tamper-proof, expiring tokens and opens them again.
 *
 * @example
 * ```ts
 * const sealer: TokenSealer<{ url: string }> = createTokenSealer({ secret: 'proxy-secret' });
 * sealer.open(sealer.seal({ url: 'https://cdn.example/a.ts' })); // { ok: true, payload: { url: … }, expiresAt: … }
 * ```
 */
export interface TokenSealer<T = unknown> {
  /**
   * Seals a JSON-serialisable payload; `now` (Unix seconds) is injectable for tests. Deterministic:
   * the same payload and lifetime sealed within one expiry bucket give the same token.
   */
  seal(payload: T, options?: { ttlSeconds?: number; now?: UnixSeconds }): string;
  /** Opens a token; never throws for a bad token, only for a token that is not a string. */
  open(token: string, options?: { now?: UnixSeconds }): OpenResult<T>;
}

/**
 * Token format version 1, the first byte of a token whose payload is plain JSON.
 *
 * @example
 * ```ts
 * Buffer.from(sealer.seal({ url: 'https://cdn.example/a.ts' }), 'base64url')[0] === TOKEN_VERSION; // true
 * ```
 */
export const TOKEN_VERSION = 1;
/**
 * Token format version 2, the first byte of a token whose payload is JSON compressed with raw
 * DEFLATE (RFC 1951). Sealers seal it for long payloads and open both versions.
 *
 * @example
 * ```ts
 * const long = { url: `https://cdn.example/${'a'.repeat(2000)}.ts` };
 * Buffer.from(sealer.seal(long), 'base64url')[0] === COMPRESSED_TOKEN_VERSION; // true
 * ```
 */
export const COMPRESSED_TOKEN_VERSION = 2;
const KEY_ID_LENGTH = 4;
const IV_LENGTH = 12;
const TAG_LENGTH = 16;
const EXPIRY_LENGTH = 6;
const HEADER_LENGTH = 1 + KEY_ID_LENGTH;
const MIN_TOKEN_BYTES = HEADER_LENGTH + IV_LENGTH + EXPIRY_LENGTH + TAG_LENGTH;
/**
 * Longer tokens are refused (`malformed`) before any decoding: no URL that long reaches a real
 * server.
 *
 * @example
 * ```ts
 * sealer.open('A'.repeat(MAX_TOKEN_LENGTH + 4)); // { ok: false, reason: 'malformed' }
 * ```
 */
export const MAX_TOKEN_LENGTH = 65_536;
const MAX_EXPIRY = 2 ** (8 * EXPIRY_LENGTH) - 1;
const DEFAULT_TTL_SECONDS = 86_400;
const DEFAULT_COMPRESS_ABOVE = 1024;
/** A token opens to at most this much JSON: an inflated payload is bounded, whoever sealed it. */
const MAX_PAYLOAD_BYTES = 1024 * 1024;
// Payloads are a few KiB: a 4 KiB window finds every repeat in them and costs far less to set up
// per token than the default 32 KiB one.
const DEFLATE_OPTIONS = { level: 6, windowBits: 12, memLevel: 8, strategy: zlibConstants.Z_DEFAULT_STRATEGY } as const;
const BASE64URL = /^[A-Za-z0-9_-]+$/;
/** The expiry is rounded down to a multiple of this fraction of the lifetime (see {@link bucketedExpiry}). */
const EXPIRY_BUCKETS_PER_LIFETIME = 24;

// Fixed, public labels: HKDF derives independent keys from one secret when the `info` differs, so
// the key id published in every token reveals nothing about the encryption key.
const HKDF_SALT = 'strm/signing proxy-token';
const INFO_ENCRYPTION_KEY = 'strm proxy-token v1 aes-256-gcm key';
const INFO_KEY_ID = 'strm proxy-token v1 key id';
const INFO_IV_KEY = 'strm proxy-token v1 synthetic iv key';

interface SealingKey {
  keyId: Buffer;
  /** The HMAC-SHA256 key that derives each token's IV from what the token encrypts. */
  ivKey: KeyObject;
  /** The additional authenticated data of a token of this key, by version. */
  headers: { [TOKEN_VERSION]: Buffer; [COMPRESSED_TOKEN_VERSION]: Buffer };
  key: KeyObject;
}

// One key serves both versions: the version byte is authenticated, so a token cannot be
// relabelled from one to the other.
function deriveKey(secret: string): SealingKey {
  const keyId = Buffer.from(hkdfSync('sha256', secret, HKDF_SALT, INFO_KEY_ID, KEY_ID_LENGTH));
  const key = createSecretKey(Buffer.from(hkdfSync('sha256', secret, HKDF_SALT, INFO_ENCRYPTION_KEY, 32)));
  const ivKey = createSecretKey(Buffer.from(hkdfSync('sha256', secret, HKDF_SALT, INFO_IV_KEY, 32)));
  return {
    keyId,
    key,
    ivKey,
    headers: {
      [TOKEN_VERSION]: Buffer.concat([Buffer.of(TOKEN_VERSION), keyId]),
      [COMPRESSED_TOKEN_VERSION]: Buffer.concat([Buffer.of(COMPRESSED_TOKEN_VERSION), keyId]),
    },
  };
}

function checkCompressAbove(value: unknown): number {
  if (value === undefined) return DEFAULT_COMPRESS_ABOVE;
  if (typeof value !== 'number' || Number.isNaN(value) || value < 0) {
    throw new TypeError(`options.compressAbove must be a non-negative number of bytes or Infinity; received ${String(value)}`);
  }
  return value;
}

/** The bytes to encrypt and the version they go under: deflated when long and worth it. */
function encodePayload(json: Buffer, compressAbove: number): { version: typeof TOKEN_VERSION | typeof COMPRESSED_TOKEN_VERSION; bytes: Buffer } {
  if (json.length > compressAbove) {
    const deflated = deflateRawSync(json, DEFLATE_OPTIONS);
    if (deflated.length < json.length) return { version: COMPRESSED_TOKEN_VERSION, bytes: deflated };
  }
  return { version: TOKEN_VERSION, bytes: json };
}

/** The JSON bytes of an authenticated plaintext, or undefined when they cannot be had. */
function decodePayload(version: number, bytes: Buffer): Buffer | undefined {
  if (version === TOKEN_VERSION) return bytes.length <= MAX_PAYLOAD_BYTES ? bytes : undefined;
  try {
    return inflateRawSync(bytes, { maxOutputLength: MAX_PAYLOAD_BYTES });
  } catch {
    return undefined;
  }
}

function checkTtl(value: unknown, option: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    throw new TypeError(`${option} must be a positive integer number of seconds; received ${String(value)}`);
  }
  return value;
}

function checkNow(value: unknown, option: string): number {
  if (value === undefined) return Date.now() / 1000;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new TypeError(`${option} must be a finite, non-negative number of Unix seconds; received ${String(value)}`);
  }
  return value;
}

function serialise(payload: unknown): Buffer {
  let json: string | undefined;
  try {
    json = JSON.stringify(payload);
  } catch (cause) {
    throw new SigningError('STRM_SIGNING_UNSERIALISABLE_PAYLOAD', 'cannot seal the payload: JSON.stringify failed on it', { cause });
  }
  if (json === undefined) {
    throw new SigningError(
      'STRM_SIGNING_UNSERIALISABLE_PAYLOAD',
      `cannot seal the payload: expected a JSON-serialisable value; received ${typeof payload}`,
    );
  }
  return Buffer.from(json, 'utf8');
}

/**
 * The length of an expiry bucket for a lifetime: one twenty-fourth of it (an hour for the default
 * day), at least one second. Seals within one bucket get the same expiry, hence the same token.
 */
function expiryBucket(ttl: number): number {
  return Math.max(1, Math.floor(ttl / EXPIRY_BUCKETS_PER_LIFETIME));
}

/**
 * `now + ttl` rounded down to a multiple of the bucket (counted from the epoch, so that every
 * sealer, on every replica, rounds alike). A token therefore lives at most `ttl` seconds and at
 * least `ttl - bucket + 1`: never longer than configured (rotation may drop a secret one lifetime
 * after it stopped sealing), never shorter by more than a bucket, and never born expired
 * (`bucket <= ttl / 24 < ttl`).
 */
function bucketedExpiry(unbucketed: number, ttl: number): number {
  const bucket = expiryBucket(ttl);
  return unbucketed - (unbucketed % bucket);
}

/**
 * The IV of a token: the first 96 bits of HMAC-SHA256, under a key of its own, of every byte the
 * token authenticates and encrypts (version and key id, expiry, payload as encrypted).
 *
 * Why this is safe with AES-GCM, whose one weakness is an IV used twice under one key with two
 * different plaintexts (it gives away the XOR of the plaintexts and the authentication key):
 * - Equal inputs give equal IVs and equal tokens: the same plaintext encrypted twice under the
 *   same IV yields the same ciphertext and tag, which tells nothing new. That equality is the
 *   point (the same link seals to the same URI) and all that an observer learns.
 * - Different inputs share an IV only if HMAC-SHA256 collides on 96 bits: HMAC is a PRF, so for q
 *   tokens per key that chance is about q² / 2⁹⁷, the same bound as for random 96-bit IVs
 *   (2⁻³³ after 2³² tokens, NIST SP 800-38D's limit for random IVs). Rotating the secret starts
 *   new keys.
 * - The IV is computed over the bytes actually encrypted, after DEFLATE, not over the JSON: two
 *   zlib builds may deflate one JSON differently, and those two plaintexts must not share an IV.
 * - The HMAC key is derived with its own HKDF label, independent of the encryption key and of
 *   the published key id; the IV (public in the token) reveals nothing of either.
 * - The input is unambiguous: the header and the expiry have fixed lengths, the payload is the rest.
 */
function syntheticIv(ivKey: KeyObject, header: Buffer, expiry: Buffer, plaintext: Buffer): Buffer {
  return createHmac('sha256', ivKey).update(header).update(expiry).update(plaintext).digest().subarray(0, IV_LENGTH);
}

/**
 * Creates a sealer for proxy tokens: AES-256-GCM under a key derived with HKDF-SHA256 from the
 * secret, a 4-byte key id (derived too, never the secret) so that previous secrets still open
 * their tokens, a synthetic 96-bit IV per token (an HMAC of what it seals: the same payload,
 * sealed within one expiry bucket, is the same token), the expiry (rounded down to a bucket of
 * a twenty-fourth of the lifetime) inside the encrypted payload, and base64url without padding.
 * Keys are derived once here, so sealing costs microseconds.
 *
 * Throws a `TypeError` for an empty secret or a `ttlSeconds` that is not a positive integer.
 *
 * @example
 * ```ts
 * const sealer = createTokenSealer<{ url: string }>({ secret: 'new', previousSecrets: ['old'] });
 * const token = sealer.seal({ url: 'https://cdn.example/seg-1.ts' }, { now: 1_700_000_000 });
 * sealer.open(token, { now: 1_700_000_000 });
 * // { ok: true, payload: { url: 'https://cdn.example/seg-1.ts' }, expiresAt: 1700086400 }
 * sealer.open(token, { now: 1_700_086_400 }); // { ok: false, reason: 'expired' }
 * sealer.open(token.slice(1));                // { ok: false, reason: 'malformed' }
 * ```
 */
export function createTokenSealer<T = unknown>(options: TokenSealerOptions): TokenSealer<T> {
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`options must be an object with a secret; received ${options === null ? 'null' : typeof options}`);
  }
  const [current] = secretList(options.secret, 'options.secret');
  const previous = options.previousSecrets === undefined ? [] : [...(options.previousSecrets as readonly unknown[])];
  if (previous.length > 0) secretList(previous as string[], 'options.previousSecrets');
  const defaultTtl = options.ttlSeconds === undefined ? DEFAULT_TTL_SECONDS : checkTtl(options.ttlSeconds, 'options.ttlSeconds');
  const compressAbove = checkCompressAbove(options.compressAbove);

  const sealing = deriveKey(current!);
  // Several keys may share a 4-byte id only by a 1-in-4-billion accident; each one is tried then.
  const opening = new Map<string, SealingKey[]>();
  for (const secret of new Set([current!, ...(previous as string[])])) {
    const key = secret === current ? sealing : deriveKey(secret);
    const id = key.keyId.toString('hex');
    opening.set(id, [...(opening.get(id) ?? []), key]);
  }

  function seal(payload: T, sealOptions: { ttlSeconds?: number; now?: number } = {}): string {
    const ttl = sealOptions.ttlSeconds === undefined ? defaultTtl : checkTtl(sealOptions.ttlSeconds, 'options.ttlSeconds');
    const unbucketed = Math.floor(checkNow(sealOptions.now, 'options.now')) + ttl;
    if (unbucketed > MAX_EXPIRY) {
      throw new TypeError(`the expiry must fit in ${8 * EXPIRY_LENGTH} bits; received now + ttlSeconds = ${unbucketed}`);
    }
    const expiresAt = bucketedExpiry(unbucketed, ttl);
    const { version, bytes } = encodePayload(serialise(payload), compressAbove);
    const header = sealing.headers[version];
    const expiry = Buffer.allocUnsafe(EXPIRY_LENGTH);
    expiry.writeUIntBE(expiresAt, 0, EXPIRY_LENGTH);
    const iv = syntheticIv(sealing.ivKey, header, expiry, bytes);
    const cipher = createCipheriv('aes-256-gcm', sealing.key, iv, { authTagLength: TAG_LENGTH });
    cipher.setAAD(header);
    const sealed = Buffer.concat([header, iv, cipher.update(expiry), cipher.update(bytes), cipher.final(), cipher.getAuthTag()]);
    return sealed.toString('base64url');
  }

  function open(token: string, openOptions: { now?: number } = {}): OpenResult<T> {
    if (typeof token !== 'string') throw new TypeError(`token must be a string; received ${token === null ? 'null' : typeof token}`);
    const now = checkNow(openOptions.now, 'options.now');
    if (token.length > MAX_TOKEN_LENGTH || !BASE64URL.test(token)) return { ok: false, reason: 'malformed' };
    const bytes = Buffer.from(token, 'base64url');
    // Node's decoder ignores stray trailing bits; re-encoding refuses every other spelling of the
    // same bytes, so that each token has exactly one accepted form.
    if (bytes.length < MIN_TOKEN_BYTES || bytes.toString('base64url') !== token) return { ok: false, reason: 'malformed' };
    const version = bytes[0]!;
    if (version !== TOKEN_VERSION && version !== COMPRESSED_TOKEN_VERSION) return { ok: false, reason: 'malformed' };
    const candidates = opening.get(bytes.subarray(1, HEADER_LENGTH).toString('hex'));
    if (candidates === undefined) return { ok: false, reason: 'unknown-key' };
    const iv = bytes.subarray(HEADER_LENGTH, HEADER_LENGTH + IV_LENGTH);
    const ciphertext = bytes.subarray(HEADER_LENGTH + IV_LENGTH, bytes.length - TAG_LENGTH);
    const tag = bytes.subarray(bytes.length - TAG_LENGTH);
    for (const candidate of candidates) {
      let plaintext: Buffer;
      try {
        const decipher = createDecipheriv('aes-256-gcm', candidate.key, iv, { authTagLength: TAG_LENGTH });
        decipher.setAAD(candidate.headers[version]);
        decipher.setAuthTag(tag);
        plaintext = Buffer.concat([decipher.update(ciphertext), decipher.final()]);
      } catch {
        continue;
      }
      const expiresAt = plaintext.readUIntBE(0, EXPIRY_LENGTH);
      const json = decodePayload(version, plaintext.subarray(EXPIRY_LENGTH));
      let payload: T;
      try {
        if (json === undefined) throw new Error('no payload');
        payload = JSON.parse(json.toString('utf8')) as T;
      } catch {
        // Authentic but unreadable can only be a sealer of another format under the same key.
        return { ok: false, reason: 'invalid' };
      }
      if (now >= expiresAt) return { ok: false, reason: 'expired' };
      return { ok: true, payload, expiresAt };
    }
    return { ok: false, reason: 'invalid' };
  }

  return { seal, open };
}
