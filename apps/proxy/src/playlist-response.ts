import { once } from 'node:events';
import { HlsRewriteError, PlaylistRewriter, type RewriteOptions } from '@strm/hls-rewrite';
import { discardBody } from './body-pump';
import type { RewriteLimitConfig } from './config';
import { ProxyError } from './errors';
import type { PlaylistScan } from './delivery-directives';
import { sendHeldDocument } from './held-document';
import { cappedPlaylistChunks, PlaylistTooLargeError } from './playlist-links';
import { cutAnswer, type RequestContext } from './request-context';
import { pacedPieces, playlistLimitOptions, rewriteLimitError } from './rewrite-limits';
import type { UpstreamResponse } from './upstream';

/** Longest playlist line accepted (a URI with a long query, a big DATERANGE). */
const MAX_LINE_BYTES = 1024 * 1024;
/** Up to this much rewritten output is held to answer with an exact Content-Length. */
const BUFFERED_OUTPUT_BYTES = 1024 * 1024;
/** Playlists are cut into pieces after a line. */
const LF = 0x0a;

const PLAYLIST_HEADERS = Object.freeze({
  'content-type': 'application/vnd.apple.mpegurl',
  'cache-control': 'no-store',
  // A Range is ignored: links differ on every rewrite, so two parts would not fit together.
  'accept-ranges': 'none',
});

/**
 * What a client is told of each rewrite failure. The rewriter's own message quotes the body (the
 * first 40 characters, which can be an upstream URL with its token): it goes to the log only.
 */
const PLAYLIST_FAULTS: Readonly<Record<string, string>> = {
  HLS_NOT_A_PLAYLIST: 'the upstream answer is not an HLS playlist: it does not start with #EXTM3U',
  HLS_LINE_TOO_LONG: `a line of the upstream playlist is longer than ${MAX_LINE_BYTES / 1024 / 1024} MiB`,
  HLS_INVALID_TEXT: 'the upstream playlist is not UTF-8 text (binary data or control characters)',
  HLS_TRUNCATED: 'the upstream playlist ends inside its first line or inside a character',
};

function badPlaylist(error: unknown, limits: RewriteLimitConfig): ProxyError {
  if (error instanceof ProxyError) return error;
  const limited = rewriteLimitError(error, 'playlist', limits);
  if (limited !== undefined) return limited;
  if (error instanceof PlaylistTooLargeError) return new ProxyError('STRM_BAD_PLAYLIST', error.message);
  if (error instanceof HlsRewriteError && error.code === 'HLS_BAD_VARIABLE') {
    return new ProxyError('STRM_BAD_PLAYLIST_VARIABLE', `the upstream playlist is invalid (RFC 8216bis 4.4.2.3): ${error.message}`, { cause: error });
  }
  if (error instanceof HlsRewriteError) {
    const told = PLAYLIST_FAULTS[error.code] ?? `the upstream playlist could not be rewritten (${error.code})`;
    return new ProxyError('STRM_BAD_PLAYLIST', told, { cause: error });
  }
  return new ProxyError('STRM_UPSTREAM_FAILED', 'the upstream playlist could not be read to its end', { cause: error });
}

/**
 * The rewritten output of one playlist: held while it fits in {@link BUFFERED_OUTPUT_BYTES},
 * streamed (headers sent, chunked, with backpressure) once it does not.
 */
class PlaylistOutput {
  streaming = false;
  #held: Buffer[] = [];
  #heldBytes = 0;
  readonly #ctx: RequestContext;

  constructor(ctx: RequestContext) {
    this.#ctx = ctx;
  }

  async write(text: string): Promise<void> {
    if (text === '') return;
    const bytes = Buffer.from(text, 'utf8');
    const { res } = this.#ctx;
    if (this.streaming) {
      this.#ctx.bytes += bytes.length;
      if (!res.write(bytes)) await once(res, 'drain');
      return;
    }
    this.#held.push(bytes);
    this.#heldBytes += bytes.length;
    if (this.#heldBytes <= BUFFERED_OUTPUT_BYTES) return;
    this.streaming = true;
    this.#ctx.writeHead(200, { ...PLAYLIST_HEADERS });
    for (const chunk of this.#held) res.write(chunk);
    this.#ctx.bytes += this.#heldBytes;
    this.#held = [];
  }

  /** Ends the answer: a held playlist goes out whole, with its exact Content-Length and ETag (or as a 304). */
  end(): void {
    const { res } = this.#ctx;
    if (this.streaming) {
      res.end();
      return;
    }
    sendHeldDocument(this.#ctx, PLAYLIST_HEADERS, this.#held.length === 1 ? this.#held[0]! : Buffer.concat(this.#held));
  }
}

/**
 * Answers with the rewritten playlist while it is read. A playlist whose rewritten form fits in
 * 1 MiB (almost all) is answered with an exact Content-Length, and any fault is a clean 502;
 * a larger one is streamed chunked with backpressure, memory bounded by the longest line, and a
 * fault after the first bytes aborts the connection (never a cut playlist that looks whole).
 * The rewrite is bounded by `limits` and paced (`rewrite-limits.ts`): an amplifying playlist is
 * refused at the breach, a large one never holds other requests up.
 */
export async function sendPlaylist(
  ctx: RequestContext,
  fetched: { upstream: UpstreamResponse; head: readonly Buffer[]; rewriteUri: RewriteOptions['rewriteUri']; scan?: PlaylistScan; limits: RewriteLimitConfig; imports: RewriteOptions['imports'] },
): Promise<void> {
  const { upstream } = fetched;
  if (ctx.method === 'HEAD') {
    discardBody(upstream.body);
    ctx.writeHead(200, { ...PLAYLIST_HEADERS });
    ctx.res.end();
    return;
  }
  const rewriter = new PlaylistRewriter({ baseUrl: upstream.url, rewriteUri: fetched.rewriteUri, maxLineLength: MAX_LINE_BYTES, ...playlistLimitOptions(fetched.limits), imports: fetched.imports });
  const output = new PlaylistOutput(ctx);
  try {
    for await (const piece of pacedPieces(cappedPlaylistChunks(fetched.head, upstream.body), LF)) {
      fetched.scan?.push(piece);
      await output.write(rewriter.push(piece));
    }
    await output.write(rewriter.end());
  } catch (error) {
    discardBody(upstream.body);
    if (!output.streaming) throw badPlaylist(error, fetched.limits);
    cutAnswer(ctx.res);
    return;
  } finally {
    ctx.countRewrites(rewriter.stats);
  }
  output.end();
}
