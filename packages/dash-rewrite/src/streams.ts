import { Transform } from 'node:stream';
import { ManifestRewriter } from './rewriter';
import type { RewriteOptions, RewriteStats } from './types';

type WithStats<T> = T & { readonly stats: RewriteStats };

function exposeStats<T extends object>(target: T, rewriter: ManifestRewriter): WithStats<T> {
  return Object.defineProperty(target, 'stats', { get: () => rewriter.stats, enumerable: true }) as WithStats<T>;
}

/** Runs one step of the rewriter and hands its output on as UTF-8 bytes (nothing for empty output). */
function step(run: () => string): Buffer | undefined {
  const text = run();
  return text === '' ? undefined : Buffer.from(text, 'utf8');
}

/**
 * A Node.js `Transform` that rewrites a manifest as it flows: bytes in (split anywhere), UTF-8
 * bytes out, identical to {@link rewriteManifest}'s output, memory bounded by the largest element.
 * Bad input fails the stream with a `DashRewriteError`; `stats` is complete after `'end'`.
 *
 * @example
 * ```ts
 * import { pipeline } from 'node:stream/promises';
 * const rewrite = createManifestRewriteTransform({ baseUrl: finalUrl, rewriteUrl: ({ href }) => `/p?u=${encodeURIComponent(href)}` });
 * await pipeline(upstreamBody, rewrite, response);
 * rewrite.stats.byElement; // { BaseURL: 1, 'SegmentTemplate@media': 4, 'SegmentTemplate@initialization': 4 }
 * ```
 */
export function createManifestRewriteTransform(options: RewriteOptions): WithStats<Transform> {
  const rewriter = new ManifestRewriter(options);
  const transform = new Transform({
    transform(chunk: unknown, encoding, callback) {
      try {
        const bytes = typeof chunk === 'string' ? Buffer.from(chunk, encoding) : (chunk as Uint8Array);
        callback(null, step(() => rewriter.push(bytes)));
      } catch (error) {
        callback(error as Error);
      }
    },
    flush(callback) {
      try {
        callback(null, step(() => rewriter.end()));
      } catch (error) {
        callback(error as Error);
      }
    },
  });
  return exposeStats(transform, rewriter);
}

/**
 * The same rewrite as a Web `TransformStream` (for `fetch` bodies and `Response`): same output,
 * same bound on memory; errors the stream with a `DashRewriteError` on bad input.
 *
 * @example
 * ```ts
 * const upstream = await fetch(manifestUrl);
 * const rewrite = createManifestRewriteStream({ baseUrl: upstream.url, rewriteUrl: ({ href }) => `/p?u=${encodeURIComponent(href)}` });
 * return new Response(upstream.body!.pipeThrough(rewrite), { headers: { 'content-type': 'application/dash+xml' } });
 * ```
 */
export function createManifestRewriteStream(options: RewriteOptions): WithStats<TransformStream<Uint8Array, Uint8Array>> {
  const rewriter = new ManifestRewriter(options);
  const stream = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      const bytes = step(() => rewriter.push(chunk));
      if (bytes !== undefined) controller.enqueue(bytes);
    },
    flush(controller) {
      const bytes = step(() => rewriter.end());
      if (bytes !== undefined) controller.enqueue(bytes);
    },
  });
  return exposeStats(stream, rewriter);
}
