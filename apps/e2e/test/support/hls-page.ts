// What the hls.js page (pages/hls.html) reports, and how the hls.js suites compare one playback
// with another: one copy for the suite that plays each fixture and the one that plays it behind a
// relay and behind nginx.
import { playPlayerPage, type BrowserRequest, type OpenBrowser, type PageServer } from '../../src/browser';
import { redact } from './tools';

/** What pages/hls.html reports in `window.strmPlayer.result`. */
export interface HlsPlayerResult {
  hlsVersion: string;
  supported: boolean;
  outcome: 'ended' | 'fatal' | 'media-error' | 'unsupported';
  levels: Array<{ height: number; bitrate: number; url: string }>;
  audioTracks: Array<{ name: string }>;
  subtitleTracks: Array<{ name: string }>;
  loaded: Array<{ type: 'main' | 'audio' | 'subtitle'; sn: number | 'initSegment'; level: number; url: string; byteRange?: [number, number]; bytes: number }>;
  buffered: Array<{ type: string; sn: number | 'initSegment'; level: number }>;
  keys: string[];
  errors: Array<{ type: string; details: string; fatal: boolean; url?: string; status?: number }>;
  maxCurrentTime: number;
  ended: boolean;
  fatal?: string;
  mediaError?: string;
  quality: { total: number; dropped: number };
  cues: number;
  /** The `PATHWAY-PRIORITY` of each content steering manifest hls.js loaded, in order. */
  steering: string[][];
  /** Digests of the picture shown at the end and after the seek back (`<time> s <w>x<h> <fnv1a>`). */
  pictures: { last?: string; seek?: string };
}

export const originOf = (url: string) => new URL(url).origin;
export const describeRequest = (request: BrowserRequest) => `${request.method} ${redact(request.url).slice(0, 90)} → ${request.status ?? request.failure}`;

/** Fragment sequence numbers of one type hls.js loaded (or buffered), sorted, init segments left out. */
export function sequenceNumbers(fragments: HlsPlayerResult['loaded'] | HlsPlayerResult['buffered'], type: string): number[] {
  return [...new Set(fragments.filter((fragment) => fragment.type === type && typeof fragment.sn === 'number').map((fragment) => fragment.sn as number))].sort((a, b) => a - b);
}

/** What must be the same as from the CDN directly: how it ended, which fragments, cues and pictures. */
export function playbackSummary(result: HlsPlayerResult) {
  return {
    outcome: result.outcome,
    fatal: result.fatal,
    loaded: Object.fromEntries(['main', 'audio', 'subtitle'].map((type) => [type, sequenceNumbers(result.loaded, type)])),
    buffered: Object.fromEntries(['main', 'audio'].map((type) => [type, sequenceNumbers(result.buffered, type)])),
    levels: result.levels.map((level) => level.height),
    cues: result.cues,
    pictures: result.pictures,
  };
}

/**
 * How far Chromium's count of decoded pictures (`getVideoPlaybackQuality().totalVideoFrames`) of a
 * 4-second fixture may move between two plays of the same bytes: by one from run to run on a loaded
 * machine, directly too (measured 100/101 and 115/116), and by 4 in a full parallel run of the
 * suites (hls-byterange through the relay). The pictures themselves are compared by digest in
 * `playbackSummary`.
 */
export const DECODED_SLACK = 5;

/** The difference of two plays' decoded-picture counts (see {@link DECODED_SLACK}). */
export function decodedDifference(a: HlsPlayerResult, b: HlsPlayerResult): number {
  return Math.abs(a.quality.total - b.quality.total);
}

/** Plays `src` on the hls.js page in a fresh context; resolves with the player's report and the page's requests. */
export function playOnPage(browser: OpenBrowser, pages: PageServer, src: string, query: Readonly<Record<string, string>>, options: { playAgainAfterStall?: boolean } = {}) {
  return playPlayerPage<HlsPlayerResult>(browser, pages.url('/hls.html', { src, ...query }), undefined, options);
}
