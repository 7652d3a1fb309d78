import { Transform } from 'node:stream';
import { PlaylistRewriter } from './rewriter';
import type { RewriteOptions, RewriteStats } from './types';

/**
 * A Node.js `Transform` that rewrites a playlist as it flows: bytes in (split anywhere), UTF-8 bytes
 * out, identical to {@link rewritePlaylist}'s output. Memory is bounded by the longest line.
 * Bad input fails the stream with an `HlsRewriteError`. `stats` is readable at any time, complete
 * after `'end'`.
 *
 * @example
 * ```ts
 * import { pipeline } from 'node:stream/promises';
 * const rewrite = createPlaylistRewriteTransform({ baseUrl: upstreamUrl, rewriteUri: ({ kind }) => `${kind}.bin` });
 * await pipeline(upstreamBody, rewrite, response);
 * rewrite.stats.byTag; // { 'URI-LINE': 1200, 'EXT-X-KEY': 1 }
 * ```
 */
export function createPlaylistRewriteTransform(options: RewriteOptions): Transform & { readonly stats: RewriteStats } {
  const rewriter = new PlaylistRewriter(options);
  const transform = new Transform({
    transform(chunk: unknown, encoding, callback) {
      let text: string;
      try {
        const bytes = typeof chunk === 'string' ? Buffer.from(chunk, encoding) : (chunk as Uint8Array);
        text = rewriter.push(bytes);
      } catch (error) {
        callback(error as Error);
        return;
      }
      callback(null, text.length > 0 ? Buffer.from(text, 'utf8') : undefined);
    },
    flush(callback) {
      let text: string;
      try {
        text = rewriter.end();
      } catch (error) {
        callback(error as Error);
        return;
      }
      callback(null, text.length > 0 ? Buffer.from(text, 'utf8') : undefined);
    },
  });
  return Object.defineProperty(transform, 'stats', { get: () => rewriter.stats, enumerable: true }) as Transform & {
    readonly stats: RewriteStats;
  };
}

/**
 * The same rewrite as a Web `TransformStream` (for `fetch` bodies and `Response`): same output,
 * same bound on memory, errors the stream with an `HlsRewriteError` on bad input.
 *
 * @example
 * ```ts
 * const upstream = await fetch(upstreamUrl);
 * const rewrite = createPlaylistRewriteStream({ baseUrl: upstream.url, rewriteUri: ({ kind }) => `${kind}.bin` });
 * return new Response(upstream.body!.pipeThrough(rewrite), { headers: { 'content-type': 'application/vnd.apple.mpegurl' } });
 * ```
 */
export function createPlaylistRewriteStream(
  options: RewriteOptions,
): TransformStream<Uint8Array, Uint8Array> & { readonly stats: RewriteStats } {
  const rewriter = new PlaylistRewriter(options);
  const encoder = new TextEncoder();
  const stream = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      const text = rewriter.push(chunk);
      if (text.length > 0) controller.enqueue(encoder.encode(text));
    },
    flush(controller) {
      const text = rewriter.end();
      if (text.length > 0) controller.enqueue(encoder.encode(text));
    },
  });
  return Object.defineProperty(stream, 'stats', { get: () => rewriter.stats, enumerable: true }) as TransformStream<
    Uint8Array,
    Uint8Array
  > & { readonly stats: RewriteStats };
}
