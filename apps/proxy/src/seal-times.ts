import type { UnixSeconds } from '@strm/signing';
import { setNewest } from './bounded-map';

/** Live playlists whose last rewrite is remembered (most recently rewritten). */
const REMEMBERED_PLAYLISTS = 1024;
/** Links of reloaded live playlists whose seal time is remembered: a few hundred live windows. */
const REMEMBERED_LINKS = 16_384;

/** What is remembered of a playlist's last rewrite (a playlist known to have ended is forgotten). */
interface LastRewrite {
  /** The seal time it gave the links it did not remember. */
  at: UnixSeconds;
  /** Whether it remembered the seal time of each of its links. */
  recordedLinks: boolean;
}

/** How one rewrite seals: the seal time of each link, by the link's upstream URL. */
export type SealTime = (linkUrl: string) => UnixSeconds;

/**
 * When the links of live playlists are sealed, so that a segment keeps its URI from one reload to
 * the next, on every replica alike.
 *
 * Tokens are deterministic: a link sealed at the same instant is the same URI, and one sealed in
 * the same expiry bucket (a twenty-fourth of the lifetime) too. Sealing at `now` would change every
 * link at a bucket's end, and hls.js stops a live playback whose reload names a segment it holds by
 * another URI ("media sequence mismatch"). So:
 * - links are sealed at `now` rounded down to a quarter of the lifetime, counted from the epoch:
 *   every replica with the same lifetime picks the same instant;
 * - a link a reloaded live playlist listed keeps the instant it was sealed at for half a lifetime
 *   (a segment of a sliding window, listed for minutes, keeps one URI all its life; one listed
 *   longer, the start of a long `EVENT` playlist, changes once per half lifetime);
 * - the links of a first rewrite are not remembered one by one (video on demand is rewritten a
 *   few times at most): its first reload gives those it does not remember the first rewrite's
 *   instant, and records them.
 *
 * A token sealed at a remembered instant still lives at least half the lifetime less a bucket.
 * Per process and bounded; a replica that does not remember a link seals it at the current
 * quarter, which differs only for a link listed across a quarter's end.
 */
export class SealTimes {
  readonly #playlists = new Map<string, LastRewrite>();
  readonly #links = new Map<string, UnixSeconds>();
  /** The grid of seal instants: a quarter of the token lifetime. */
  readonly #quarterSeconds: number;
  /** How long a link keeps the instant it was sealed at: half the token lifetime. */
  readonly #halfSeconds: number;

  /** `tokenTtlSeconds`: the lifetime the proxy's token sealer gives its tokens. */
  constructor(tokenTtlSeconds: number) {
    this.#quarterSeconds = Math.max(1, Math.floor(tokenTtlSeconds / 4));
    this.#halfSeconds = Math.floor(tokenTtlSeconds / 2);
  }

  /**
   * How one rewrite of the playlist at `playlistUrl` (its upstream URL without Delivery Directives)
   * seals its links. A rewrite that finds the playlist ended calls {@link ended}.
   */
  forRewrite(playlistUrl: string, now: UnixSeconds): SealTime {
    const aligned = now - (now % this.#quarterSeconds);
    const last = this.#playlists.get(playlistUrl);
    // A reload of a playlist not known to have ended: players compare its links, remember them.
    const record = last !== undefined;
    // Links the last rewrite listed without remembering them: sealed at its instant while it lasts.
    const unknown = last !== undefined && !last.recordedLinks && this.#lasts(last.at, now) ? last.at : aligned;
    setNewest(this.#playlists, playlistUrl, { at: unknown, recordedLinks: record }, REMEMBERED_PLAYLISTS);
    return (linkUrl) => {
      const sealed = this.#links.get(linkUrl);
      if (sealed !== undefined && this.#lasts(sealed, now)) return sealed;
      if (record) setNewest(this.#links, linkUrl, unknown, REMEMBERED_LINKS);
      return unknown;
    };
  }

  /** Forgets a playlist that has ended (`EXT-X-ENDLIST`): players do not reload it. */
  ended(playlistUrl: string): void {
    this.#playlists.delete(playlistUrl);
  }

  /** Whether a link sealed at `sealedAt` may keep that instant: less than half a lifetime ago. */
  #lasts(sealedAt: UnixSeconds, now: UnixSeconds): boolean {
    return now >= sealedAt && now - sealedAt < this.#halfSeconds;
  }
}
