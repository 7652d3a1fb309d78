import type { StoredResolution } from './store';
import type { EpochMilliseconds } from './time';

/**
 * How long a resolution stays fresh, and when a refresh is too recent to repeat: the client's
 * freshness policy, from its options.
 */
export class FreshnessPolicy {
  readonly #ttlMs: number;
  readonly #marginMs: number;
  readonly #minRefreshIntervalMs: number;
  readonly #now: () => EpochMilliseconds;

  constructor(options: { ttlMs: number; marginMs: number; minRefreshIntervalMs: number; now: () => EpochMilliseconds }) {
    this.#ttlMs = options.ttlMs;
    this.#marginMs = options.marginMs;
    this.#minRefreshIntervalMs = options.minRefreshIntervalMs;
    this.#now = options.now;
  }

  /** The clock. */
  now(): EpochMilliseconds {
    return this.#now();
  }

  /** Until `resolvedAt + cacheTtl` or `expiresAt - margin`, whichever comes first. */
  freshUntil(stored: StoredResolution): EpochMilliseconds {
    const byTtl = this.#ttlMs > 0 ? stored.resolvedAt + this.#ttlMs : Infinity;
    const byExpiry = stored.resolution.expiresAt === undefined ? Infinity : stored.resolution.expiresAt - this.#marginMs;
    return Math.min(byTtl, byExpiry);
  }

  isFresh(stored: StoredResolution): boolean {
    return this.#now() < this.freshUntil(stored);
  }

  /** How long to keep a fresh result: milliseconds, `forever`, or `stale` (born stale: drop it). */
  keepFor(stored: StoredResolution): number | 'forever' | 'stale' {
    const remaining = this.freshUntil(stored) - this.#now();
    if (remaining === Infinity) return 'forever';
    return remaining > 0 ? remaining : 'stale';
  }

  /** Whether refreshes are spaced out at all (`minRefreshIntervalMs` > 0), and by how much. */
  get minRefreshIntervalMs(): number {
    return this.#minRefreshIntervalMs;
  }

  /** Whether the last refresh is younger than `minRefreshIntervalMs`: its result is reused. */
  isRecentRefresh(last: StoredResolution): boolean {
    const age = this.#now() - last.resolvedAt;
    return age >= 0 && age < this.#minRefreshIntervalMs;
  }
}
