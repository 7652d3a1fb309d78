import { performance } from 'node:perf_hooks';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { DashRewriteErrorCode, RewriteOptions as ManifestRewriteOptions } from '@strm/dash-rewrite';
import type { RewriteLimitCode, RewriteOptions as PlaylistRewriteOptions } from '@strm/hls-rewrite';
import type { RewriteLimitConfig } from './config';
import { ProxyError, type ProxyErrorCode } from './errors';
import { MAX_REFERENCE_BYTES } from './reference-base';

// One upstream playlist (or MPD) must not make the proxy do unbounded work, nor hold the event
// loop while it is rewritten: the limits stop a rewrite at the breach with a 502 of its own code,
// and the body goes through the rewriter in small pieces with a turn of the event loop whenever
// a few milliseconds have passed, so that `/healthz` and every other request keep being answered.

/** Bytes per piece handed to a rewriter: cut at the first delimiter past this (a line, a tag). */
const PIECE_BYTES = 1024;
/**
 * Delimiters (lines, tags) per piece at most: each may hold a URI, and sealing one costs tens of
 * microseconds, so a kilobyte of one-character URIs must not be one piece.
 */
const PIECE_DELIMITERS = 32;
/** Longest the rewrite runs before it lets the event loop take a turn. */
const SLICE_MS = 3;

/** The limit options of a playlist rewrite: the operator's, and URIs no longer than a proxy link can carry. */
export function playlistLimitOptions(limits: RewriteLimitConfig): Partial<PlaylistRewriteOptions> {
  return {
    // A longer URI cannot be sealed into a link players accept (`reference-base.ts`): refuse it
    // before its variables are expanded any further.
    maxUriLength: MAX_REFERENCE_BYTES,
    maxUris: limits.maxUris,
    maxVariableReferences: limits.maxVariableReferences,
    maxOutputLength: limits.maxOutputBytes,
    maxOutputRatio: limits.maxOutputRatio,
  };
}

/** The limit options of a DASH manifest rewrite (MPDs have no variables). */
export function manifestLimitOptions(limits: RewriteLimitConfig): Partial<ManifestRewriteOptions> {
  return { maxUrls: limits.maxUris, maxOutputLength: limits.maxOutputBytes, maxOutputRatio: limits.maxOutputRatio };
}

type LimitCode = RewriteLimitCode | Extract<DashRewriteErrorCode, 'DASH_TOO_MANY_URLS' | 'DASH_OUTPUT_TOO_LARGE' | 'DASH_OUTPUT_AMPLIFIED'>;

/** What each limit breach answers: the proxy's code and a message naming the limit (never the upstream). */
const LIMIT_ANSWERS: Record<LimitCode, (document: string, limits: RewriteLimitConfig) => [ProxyErrorCode, string]> = {
  HLS_URI_TOO_LONG: (document) => ['STRM_URI_TOO_LONG', `a URI of the upstream ${document}, with its variables substituted, is longer than a proxy link can carry (${MAX_REFERENCE_BYTES} bytes)`],
  HLS_TOO_MANY_VARIABLE_REFERENCES: (document, limits) => [
    'STRM_TOO_MANY_VARIABLE_REFERENCES',
    `the URIs of the upstream ${document} hold more than ${limits.maxVariableReferences} variable references (STRM_PROXY_PLAYLIST_MAX_VARIABLE_REFERENCES)`,
  ],
  HLS_TOO_MANY_URIS: (document, limits) => ['STRM_TOO_MANY_URIS', `the upstream ${document} has more than ${limits.maxUris} URIs (STRM_PROXY_PLAYLIST_MAX_URIS)`],
  DASH_TOO_MANY_URLS: (document, limits) => ['STRM_TOO_MANY_URIS', `the upstream ${document} has more than ${limits.maxUris} URLs (STRM_PROXY_PLAYLIST_MAX_URIS)`],
  HLS_OUTPUT_TOO_LARGE: (document, limits) => tooLarge(document, limits),
  DASH_OUTPUT_TOO_LARGE: (document, limits) => tooLarge(document, limits),
  HLS_OUTPUT_AMPLIFIED: (document, limits) => amplified(document, limits),
  DASH_OUTPUT_AMPLIFIED: (document, limits) => amplified(document, limits),
};

function tooLarge(document: string, limits: RewriteLimitConfig): [ProxyErrorCode, string] {
  return ['STRM_REWRITE_TOO_LARGE', `the rewritten ${document} would be larger than ${limits.maxOutputBytes / 1024 / 1024} MiB (STRM_PROXY_PLAYLIST_MAX_OUTPUT_MIB)`];
}

function amplified(document: string, limits: RewriteLimitConfig): [ProxyErrorCode, string] {
  return [
    'STRM_REWRITE_AMPLIFIED',
    `the rewritten ${document} would grow past ${limits.maxOutputRatio} times the size of the upstream one (STRM_PROXY_PLAYLIST_MAX_OUTPUT_RATIO): too many URIs for its size`,
  ];
}

/**
 * The 502 of a rewrite stopped by a limit, or undefined for any other error.
 *
 * @example
 * rewriteLimitError(new HlsRewriteError('HLS_TOO_MANY_URIS', '…'), 'playlist', limits)?.code // 'STRM_TOO_MANY_URIS'
 */
export function rewriteLimitError(error: unknown, document: 'playlist' | 'manifest', limits: RewriteLimitConfig): ProxyError | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || !Object.hasOwn(LIMIT_ANSWERS, code)) return undefined;
  const [proxyCode, message] = LIMIT_ANSWERS[code as LimitCode](document, limits);
  return new ProxyError(proxyCode, message, { cause: error });
}

/** Where the piece of `chunk` from `start` ends: after {@link PIECE_DELIMITERS} delimiters, or after the first one past {@link PIECE_BYTES}. */
function pieceEnd(chunk: Buffer, start: number, delimiter: number): number {
  let at = start;
  for (let count = 0; count < PIECE_DELIMITERS; count++) {
    const next = chunk.indexOf(delimiter, at);
    if (next === -1) return chunk.length;
    at = next + 1;
    if (at - start >= PIECE_BYTES) return at;
  }
  return at;
}

/**
 * The chunks of a body cut into pieces of at most {@link PIECE_DELIMITERS} lines (or tags) and
 * about {@link PIECE_BYTES}, with a turn of the event loop whenever the consumer has worked for
 * {@link SLICE_MS} since the last one. A rewriter fed from it never holds other requests up for
 * longer than one piece's work.
 */
export async function* pacedPieces(chunks: AsyncIterable<Buffer> | Iterable<Buffer>, delimiter: number): AsyncGenerator<Buffer> {
  let since = performance.now();
  for await (const chunk of chunks) {
    let start = 0;
    while (start < chunk.length) {
      const end = pieceEnd(chunk, start, delimiter);
      yield start === 0 && end === chunk.length ? chunk : chunk.subarray(start, end);
      start = end;
      if (performance.now() - since >= SLICE_MS) {
        await nextTurn();
        since = performance.now();
      }
    }
  }
}
