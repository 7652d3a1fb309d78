import type { ServerResponse } from 'node:http';
import { once } from 'node:events';
import { HlsRewriteError, PlaylistRewriter, type RewriteOptions, type RewriteStats } from '@strm/hls-rewrite';
import { ProxyError } from './errors';
import { discardBody } from './body-pump';
import type { UpstreamResponse } from './upstream';

/** SPEC 7: the largest playlist the proxy reads. */
export const MAX_PLAYLIST_BYTES = 16 * 1024 * 1024;
/** Longest playlist line accepted (a URI with a long query, a big DATERANGE). */
const MAX_LINE_BYTES = 1024 * 1024;
/** Up to this much rewritten output is held to answer with an exact Content-Length. */
const BUFFERED_OUTPUT_BYTES = 1024 * 1024;

export const PLAYLIST_HEADERS = {
  'content-type': 'application/vnd.apple.mpegurl',
  'cache-control': 'no-store',
} as const;

export interface PlaylistResponse {
  upstream: UpstreamResponse;
  method: 'GET' | 'HEAD';
  head: readonly Buffer[];
  rewriteUri: RewriteOptions['rewriteUri'];
  writeHead: (status: number, headers: Record<string, string>) => void;
  onBytes: (count: number) => void;
  onStats: (stats: RewriteStats) => void;
}

function badPlaylist(error: unknown): ProxyError {
  if (error instanceof ProxyError) return error;
  if (error instanceof HlsRewriteError) {
    return new ProxyError('STRM_BAD_PLAYLIST', `the upstream playlist could not be rewritten: ${error.message}`, { cause: error });
  }
  return new ProxyError('STRM_UPSTREAM_FAILED', 'the upstream playlist could not be read to its end', { cause: error });
}

/**
 * Answers with the rewritten playlist while it is read. A playlist whose rewritten form fits in
 * 1 MiB (almost all) is answered with an exact Content-Length, and any fault is a clean 502;
 * a larger one is streamed chunked with backpressure, memory bounded by the longest line, and a
 * fault after the first bytes aborts the connection (never a cut playlist that looks whole).
 */
export async function sendPlaylist(res: ServerResponse, playlist: PlaylistResponse): Promise<void> {
  const { upstream } = playlist;
  if (playlist.method === 'HEAD') {
    discardBody(upstream.body);
    playlist.writeHead(200, { ...PLAYLIST_HEADERS });
    res.end();
    return;
  }
  const rewriter = new PlaylistRewriter({ baseUrl: upstream.url, rewriteUri: playlist.rewriteUri, maxLineLength: MAX_LINE_BYTES });
  let held: Buffer[] = [];
  let heldBytes = 0;
  let streaming = false;
  let inputBytes = 0;

  const emit = async (text: string) => {
    if (text === '') return;
    const bytes = Buffer.from(text, 'utf8');
    if (streaming) {
      playlist.onBytes(bytes.length);
      if (!res.write(bytes)) await once(res, 'drain');
      return;
    }
    held.push(bytes);
    heldBytes += bytes.length;
    if (heldBytes > BUFFERED_OUTPUT_BYTES) {
      streaming = true;
      playlist.writeHead(200, { ...PLAYLIST_HEADERS });
      for (const chunk of held) res.write(chunk);
      playlist.onBytes(heldBytes);
      held = [];
    }
  };
  const feed = async (chunk: Buffer) => {
    inputBytes += chunk.length;
    if (inputBytes > MAX_PLAYLIST_BYTES) {
      throw new ProxyError('STRM_BAD_PLAYLIST', `the upstream playlist is larger than ${MAX_PLAYLIST_BYTES / 1024 / 1024} MiB`);
    }
    await emit(rewriter.push(chunk));
  };

  try {
    for (const chunk of playlist.head) await feed(chunk);
    if (!upstream.body.readableEnded) {
      for await (const chunk of upstream.body) await feed(chunk as Buffer);
    }
    await emit(rewriter.end());
  } catch (error) {
    discardBody(upstream.body);
    if (!streaming) throw badPlaylist(error);
    res.destroy();
    return;
  } finally {
    playlist.onStats(rewriter.stats);
  }
  if (streaming) {
    res.end();
    return;
  }
  const body = held.length === 1 ? held[0]! : Buffer.concat(held);
  playlist.writeHead(200, { ...PLAYLIST_HEADERS, 'content-length': String(body.length) });
  playlist.onBytes(body.length);
  res.end(body);
}
