import { createCipheriv, createDecipheriv, createSecretKey, hkdfSync, randomFillSync, type KeyObject } from 'node:crypto';
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
  /** Seals a JSON-serialisable payload; `now` (Unix seconds) is injectable for tests. */
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
const IVS_PER_REFILL = 256;

// Fixed, public labels: HKDF derives independent keys from one secret when the `info` differs, so
// the key id published in every token reveals nothing about the encryption key.
const HKDF_SALT = 'strm/signing proxy-token';
const INFO_ENCRYPTION_KEY = 'strm proxy-token v1 aes-256-gcm key';
const INFO_KEY_ID = 'strm proxy-token v1 key id';

interface SealingKey {
  keyId: Buffer;
  /** The additional authenticated data of a token of this key, by version. */
  headers: { [TOKEN_VERSION]: Buffer; [COMPRESSED_TOKEN_VERSION]: Buffer };
  key: KeyObject;
}

// One key serves both versions: the version byte is authenticated, so a token cannot be
// relabelled from one to the other.
function deriveKey(secret: string): SealingKey {
  const keyId = Buffer.from(hkdfSync('sha256', secret, HKDF_SALT, INFO_KEY_ID, KEY_ID_LENGTH));
  const key = createSecretKey(Buffer.from(hkdfSync('sha256', secret, HKDF_SALT, INFO_ENCRYPTION_KEY, 32)));
  return {
    keyId,
    key,
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
 * Creates a sealer for proxy tokens: AES-256-GCM under a key derived with HKDF-SHA256 from the
 * secret, a 4-byte key id (derived too, never the secret) so that previous secrets still open
 * their tokens, a random 96-bit IV per token, the expiry inside the encrypted payload, and
 * base64url without padding. Keys are derived once here, so sealing costs microseconds.
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

  // One call into the CSPRNG per 256 tokens instead of one per token: randomBytes(12) alone took
  // 4 µs, a third of a seal. Each byte of the pool is used for exactly one IV.
  const ivPool = Buffer.alloc(IV_LENGTH * IVS_PER_REFILL);
  let ivOffset = ivPool.length;
  function nextIv(): Buffer {
    if (ivOffset === ivPool.length) {
      randomFillSync(ivPool);
      ivOffset = 0;
    }
    ivOffset += IV_LENGTH;
    return ivPool.subarray(ivOffset - IV_LENGTH, ivOffset);
  }

  function seal(payload: T, sealOptions: { ttlSeconds?: number; now?: number } = {}): string {
    const ttl = sealOptions.ttlSeconds === undefined ? defaultTtl : checkTtl(sealOptions.ttlSeconds, 'options.ttlSeconds');
    const expiresAt = Math.floor(checkNow(sealOptions.now, 'options.now')) + ttl;
    if (expiresAt > MAX_EXPIRY) {
      throw new TypeError(`the expiry must fit in ${8 * EXPIRY_LENGTH} bits; received now + ttlSeconds = ${expiresAt}`);
    }
    const { version, bytes } = encodePayload(serialise(payload), compressAbove);
    const header = sealing.headers[version];
    const expiry = Buffer.allocUnsafe(EXPIRY_LENGTH);
    expiry.writeUIntBE(expiresAt, 0, EXPIRY_LENGTH);
    const iv = nextIv();
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
