import type { UnixSeconds } from '@strm/signing';
import { setNewest } from './bounded-map';

/** Playlists whose first seal time is remembered (most recently rewritten). */
const REMEMBERED_PLAYLISTS = 1024;
/** Links of reloaded playlists whose seal time is remembered: a few hundred live windows. */
const REMEMBERED_LINKS = 16_384;

/**
 * When the links of reloaded playlists were sealed, so that a segment keeps its URI from one
 * reload of a live playlist to the next.
 *
 * Tokens are deterministic: a link sealed again in the same expiry bucket (a twenty-fourth of the
 * token lifetime) is the same URI. At a bucket's end every link would change at once, and hls.js
 * stops a live playback whose reload names a segment it holds by another URI ("media sequence
 * mismatch"). So the links of a reloaded playlist are sealed at the playlist's seal time, which
 * moves to now once it is a quarter of the lifetime old; a link listed before that move keeps the
 * time it was sealed at until that is half a lifetime old. A segment of a sliding window (listed
 * for minutes) keeps one URI for its whole life; one listed for longer than a quarter of the
 * lifetime (an EVENT playlist's first segments) changes once per half lifetime. A reused token
 * is valid for at least half the lifetime less a bucket.
 *
 * The first rewrite of a playlist remembers only its seal time, not its links: a playlist that
 * is never reloaded (video on demand) costs one map entry. Per process and bounded: a reload
 * served by another replica, or after the playlist was forgotten, seals at that replica's time,
 * which changes the URIs only when the expiry bucket differs.
 */
export class SealTimes {
  readonly #playlists = new Map<string, UnixSeconds>();
  readonly #links = new Map<string, UnixSeconds>();
  /** How long a playlist's seal time is given to its links: a quarter of the token lifetime. */
  readonly #playlistSeconds: number;
  /** How long a link keeps the time it was sealed at: half the token lifetime. */
  readonly #linkSeconds: number;

  constructor(tokenTtlSeconds: number) {
    this.#playlistSeconds = Math.floor(tokenTtlSeconds / 4);
    this.#linkSeconds = Math.floor(tokenTtlSeconds / 2);
  }

  /**
   * The seal time of each link of one rewrite of the playlist at `playlistUrl` (its upstream URL
   * without Delivery Directives), by the link's upstream URL; undefined for a first rewrite, whose
   * links are all sealed `now`.
   */
  forRewrite(playlistUrl: string, now: UnixSeconds): ((linkUrl: string) => UnixSeconds) | undefined {
    const previous = this.#playlists.get(playlistUrl);
    const current = previous !== undefined && within(previous, now, this.#playlistSeconds) ? previous : now;
    setNewest(this.#playlists, playlistUrl, current, REMEMBERED_PLAYLISTS);
    if (previous === undefined) return undefined;
    return (linkUrl) => {
      const sealed = this.#links.get(linkUrl);
      if (sealed !== undefined && within(sealed, now, this.#linkSeconds)) return sealed;
      setNewest(this.#links, linkUrl, current, REMEMBERED_LINKS);
      return current;
    };
  }
}

/** Whether `sealedAt` is less than `seconds` before `now` (and not after it). */
function within(sealedAt: UnixSeconds, now: UnixSeconds, seconds: number): boolean {
  return now >= sealedAt && now - sealedAt < seconds;
}
