// What the live hls.js page (pages/hls-live.html) reports, and the figures the live suites
// compare: one copy for the low-latency suite and the sliding-window one.
import { runPlayerPage, type OpenBrowser, type PageServer } from '../../src/browser';
import type { CdnRequestLog } from '../../src/fake-cdn';

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
  errors: Array<{ type: string; details: string; fatal: boolean; url?: string; status?: number }>;
  /** `waiting` events once playback had started (stalls). */
  waiting: number;
  played: number;
  fatal?: string;
}

/** Plays `src` on the live page for `seconds` of stream; resolves with the player's report and the page's requests. */
export async function playLive(browser: OpenBrowser, pages: PageServer, src: string, query: { seconds: number; lowLatency: boolean }) {
  const logged = await browser.newPage();
  try {
    const url = pages.url('/hls-live.html', { src, seconds: String(query.seconds), lowLatency: query.lowLatency ? '1' : '0' });
    const result = await runPlayerPage<LivePlayerResult>(logged, url, (query.seconds + 30) * 1000);
    return { result, requests: [...logged.requests], console: [...logged.console] };
  } finally {
    await logged.close();
  }
}

/** The median of the numbers (undefined for none). */
export function median(values: readonly number[]): number | undefined {
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
