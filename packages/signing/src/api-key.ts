import { createHash, timingSafeEqual } from 'node:crypto';
import { secretList } from './secrets';

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/**
 * Whether a received API key (query `apikey` or header `X-Api-Key`) equals one of the expected
 * keys. Both sides are hashed to fixed-length digests before a constant-time comparison, so the
 * time taken reveals neither where the keys differ nor how long the expected key is. A missing or
 * empty received key never matches.
 *
 * Throws a `TypeError` when `expected` is empty (an empty expected key would be a configuration
 * mistake, not a key).
 *
 * @example
 * ```ts
 * apiKeyMatches('k-123', 'k-123');          // true
 * apiKeyMatches('k-123', ['new', 'k-123']); // true
 * apiKeyMatches(undefined, 'k-123');        // false
 * ```
 */
export function apiKeyMatches(received: string | undefined | null, expected: string | readonly string[]): boolean {
  const keys = secretList(expected, 'expected');
  if (typeof received !== 'string' || received.length === 0) return false;
  const given = digest(received);
  let matched = false;
  for (const key of keys) matched = timingSafeEqual(given, digest(key)) || matched;
  return matched;
}
