import { createHash } from 'node:crypto';
import type { RequestContext } from './request-context';

/**
 * The strong ETag of a rewritten playlist or manifest: a digest of the bytes the client gets. The
 * upstream's validators describe the upstream's bytes, not these (every URI is a proxy link, and
 * links carry an expiry), so they are never passed on for a rewritten document.
 *
 * @example
 * rewrittenEtag(Buffer.from('#EXTM3U\n')) // '"m-…"' (27 base64url characters of SHA-256)
 */
export function rewrittenEtag(body: Uint8Array): string {
  return `"m-${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
}

/**
 * Whether `If-None-Match` names this ETag, by the weak comparison RFC 9110 §13.1.2 asks for
 * (`W/` ignored), or is `*` (the representation exists).
 *
 * @example
 * ifNoneMatchHolds('W/"a", "b"', '"b"') // true
 * ifNoneMatchHolds('"a"', '"b"')        // false
 */
export function ifNoneMatchHolds(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  if (header.trim() === '*') return true;
  for (const match of header.matchAll(/(?:W\/)?("[^"]*")/g)) {
    if (match[1] === etag) return true;
  }
  return false;
}

/**
 * Answers with a rewritten document held whole: a 304 (no body) when the client's
 * `If-None-Match` names its ETag, else a 200 with the exact Content-Length and the ETag.
 * `If-Modified-Since` is not evaluated: a rewritten document has no modification date of its own.
 */
export function sendHeldDocument(ctx: RequestContext, headers: Readonly<Record<string, string>>, body: Buffer): void {
  const etag = rewrittenEtag(body);
  if (ifNoneMatchHolds(ctx.header('if-none-match'), etag)) {
    ctx.writeHead(304, { 'cache-control': headers['cache-control'] ?? 'no-store', etag });
    ctx.res.end();
    return;
  }
  ctx.writeHead(200, { ...headers, 'content-length': String(body.length), etag });
  ctx.bytes += body.length;
  ctx.res.end(body);
}
