// What the live hls.js page (pages/hls-live.html) reports, and the figures the live suites
// compare: one copy for the low-latency suite and the sliding-window one.
import { playPlayerPage, type OpenBrowser, type PageServer } from '../../src/browser';
import type { CdnRequestLog } from '../../src/fake-cdn';

/**
 * The proxy environment of the live suites: a token lifetime of 60 s, the shortest allowed, so
 * that every playback crosses expiry buckets (2 s each) and lifetimes, where a segment's URI
 * could change between reloads.
 */
export const SHORT_TOKEN_LIFETIME = { STRM_PROXY_TOKEN_TTL_SECONDS: '60' } as const;

/** What pages/hls-live.html reports in `window.strmPlayer.result`. */
export interface LivePlayerResult {
  hlsVersion: string;
  outcome: 'played' | 'fatal';
  loaded: Array<{ sn: number | 'initSegment'; url: string; bytes: number }>;
  /** Parts hls.js buffered (low-latency mode). */
  parts: Array<{ sn: number; part: number }>;
  /** Each playlist load: its first and last segment, parts, and segments skipped by a delta update. */
  playlists: Array<{ url?: string; startSN: number; endSN: number; parts: number; skipped: number }>;
  /** Every 250 ms of playback: hls.js's latency estimate and the real one (now - program date-time on screen), in seconds. */
  samples: Array<{ at: number; latency: number; real: number | null; targetLatency: number | null }>;
  /** hls.js's errors; `reason` is the first line of its message. */
  errors: Array<{ type: string; details: string; fatal: boolean; reason?: string; url?: string; status?: number }>;
  /** `waiting` events once playback had started (stalls). */
  waiting: number;
  played: number;
  fatal?: string;
}

/** Plays `src` on the live page for `seconds` of stream; resolves with the player's report and the page's requests. */
export function playLive(browser: OpenBrowser, pages: PageServer, src: string, query: { seconds: number; lowLatency: boolean }) {
  const url = pages.url('/hls-live.html', { src, seconds: String(query.seconds), lowLatency: query.lowLatency ? '1' : '0' });
  // One playback: the suites compare its latency and its requests with the direct one.
  return playPlayerPage<LivePlayerResult>(browser, url, (query.seconds + 30) * 1000, { playAgainAfterStall: false });
}

/** The median of the numbers (undefined for none). */
function median(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** Median latencies (hls.js's estimate and the real one) once playback settled (`after` seconds in). */
export function latencies(result: LivePlayerResult, after: number): { latency: number | undefined; real: number | undefined; samples: number } {
  const settled = result.samples.filter((sample) => sample.at >= after);
  return {
    latency: median(settled.map((sample) => sample.latency)),
    real: median(settled.flatMap((sample) => (sample.real === null ? [] : [sample.real]))),
    samples: settled.length,
  };
}

/** Media segments (numbered `seg<n>.m4s`) the CDN served in full or in part, sorted, each once. */
export function servedSegments(requests: readonly CdnRequestLog[]): number[] {
  const numbers = requests.filter((request) => request.status === 200 || request.status === 206).flatMap((request) => {
    const match = /seg(\d+)\.m4s$/.exec(request.resource);
    return match === null ? [] : [Number(match[1])];
  });
  return [...new Set(numbers)].sort((a, b) => a - b);
}

/** Numbers missing between the first and the last of a sorted list. */
export function gaps(numbers: readonly number[]): number[] {
  const missing: number[] = [];
  for (let index = 1; index < numbers.length; index += 1) {
    for (let n = numbers[index - 1]! + 1; n < numbers[index]!; n += 1) missing.push(n);
  }
  return missing;
}

/** The URI lines of a playlist by the file name they end in (`seg17.m4s` → its proxy URI). */
function segmentUris(playlist: string): Map<string, string> {
  const uris = new Map<string, string>();
  for (const line of playlist.split('\n')) {
    const name = /\/(seg\d+\.m4s)$/.exec(line)?.[1];
    if (name !== undefined && !line.startsWith('#')) uris.set(name, line);
  }
  return uris;
}

/**
 * Whether the proxy gives a segment of a live playlist the same URI on every reload, which
 * hls.js requires (it stops with "media sequence mismatch" when a reload names a segment it
 * has by another URI). Asked of the low-latency origin through the proxy: the playlist, then a
 * blocking reload for the next segment, which answers once the window has moved on by one.
 */
export async function liveUrisStable(entryUrl: string): Promise<boolean> {
  const master = await (await fetch(entryUrl)).text();
  const media = master.split('\n').find((line) => line.startsWith('http'));
  if (media === undefined) throw new Error(`no media playlist in the LL-HLS multivariant playlist through the proxy:\n${master}`);
  const before = await (await fetch(media)).text();
  const sequence = Number(/#EXT-X-MEDIA-SEQUENCE:(\d+)/.exec(before)?.[1]);
  const segments = before.split('\n').filter((line) => line.startsWith('#EXTINF')).length;
  const after = await (await fetch(`${media}?_HLS_msn=${sequence + segments}`)).text();
  const [first, second] = [segmentUris(before), segmentUris(after)];
  const common = [...first.keys()].filter((name) => second.has(name));
  if (common.length === 0) throw new Error('two reloads of the LL-HLS playlist share no segment');
  return common.every((name) => first.get(name) === second.get(name));
}
