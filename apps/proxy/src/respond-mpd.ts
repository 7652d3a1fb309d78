import { once } from 'node:events';
import { DashRewriteError, ManifestRewriter, sniffManifest, templateDirectory, type RewriteStats as DashRewriteStats, type UrlContext } from '@strm/dash-rewrite';
import { sniffPlaylist, type RewriteStats as PlaylistRewriteStats } from '@strm/hls-rewrite';
import { discardBody } from './body-pump';
import type { RewriteLimitConfig } from './config';
import { ProxyError } from './errors';
import { sendHeldDocument } from './held-document';
import { cappedPlaylistChunks, MAX_PLAYLIST_BYTES, PlaylistTooLargeError } from './playlist-links';
import { cutAnswer, type RequestContext } from './request-context';
import { manifestLimitOptions, pacedPieces, rewriteLimitError } from './rewrite-limits';
import { sealedRestProblem, resolveSealedPath } from './sealed-path';
import type { ProxyTokenPayload } from './tokens';
import type { UpstreamResponse } from './upstream';

/** Longest piece of MPD markup accepted (a tag with many attributes, a long BaseURL). */
const MAX_ELEMENT_LENGTH = 1024 * 1024;
/** Up to this much rewritten output is held to answer with an exact Content-Length. */
const BUFFERED_OUTPUT_BYTES = 1024 * 1024;
/** Manifests are cut into pieces after a tag. */
const TAG_END = 0x3e;
/** Stands in for the proxy's own origin when no public base URL is configured: only relative references leave it. */
const PLACEHOLDER_ORIGIN = 'http://strm.invalid';

const MANIFEST_HEADERS = Object.freeze({
  'content-type': 'application/dash+xml',
  'cache-control': 'no-store',
  // A Range is ignored: links differ on every rewrite, so two parts would not fit together.
  'accept-ranges': 'none',
});

/**
 * What the first bytes of a body are, once they tell: an HLS playlist, a DASH manifest, or media;
 * undefined while they could still be either document. Media is decided at its first byte.
 */
export function sniffDocument(head: Uint8Array): 'playlist' | 'manifest' | 'media' | undefined {
  const playlist = sniffPlaylist(head);
  if (playlist === 'playlist') return 'playlist';
  const manifest = sniffManifest(head);
  if (manifest === 'manifest') return 'manifest';
  if (playlist === 'not-playlist' && manifest === 'not-manifest') return 'media';
  return undefined;
}

/** What a rewrite of one manifest needs to know about where it was asked for. */
export interface ManifestRequest {
  /** `stream` for the entry URL, `proxy` for a `/strm/proxy/<token>/<rest>` URL. */
  from: 'stream' | 'proxy';
  /** The path the client asked for (no query), e.g. `/strm/proxy/<token>/manifest.mpd`. */
  requestPath: string;
  publicBaseUrl: string | undefined;
  /** The upstream headers every URL of the manifest is fetched with. */
  headers: Record<string, string> | undefined;
  /** Seals a payload into a token. */
  seal: (payload: ProxyTokenPayload) => string;
  /** Adds what refresh needs (episode, entry tag, route) to a payload, given the URL's index in the manifest. */
  locate: (payload: ProxyTokenPayload, index: number) => void;
}

/** A relative reference from `from` to `to` (same origin): `../` up to the common directory, then down. */
export function relativeReference(from: URL, to: URL): string {
  const fromDirectory = from.pathname.split('/').slice(0, -1);
  const toSegments = to.pathname.split('/');
  let common = 0;
  while (common < fromDirectory.length && common < toSegments.length - 1 && fromDirectory[common] === toSegments[common]) common++;
  const reference = '../'.repeat(fromDirectory.length - common) + toSegments.slice(common).join('/') + to.search;
  // A first segment with a colon would read as a scheme.
  return reference === '' || reference.split('/', 1)[0]!.includes(':') ? `./${reference}` : reference;
}

/** The last path segment of a URL as a file name, or `fallback`. */
function fileName(href: string, fallback: string): string {
  const path = new URL(href).pathname;
  const name = path.slice(path.lastIndexOf('/') + 1).replace(/[^A-Za-z0-9._-]/g, '');
  return name === '' || name.startsWith('.') ? fallback : name.slice(-100);
}

/**
 * Whether a relative reference can stay as it is: the player already resolves it, through a
 * token this manifest sealed for a directory (without a query), to the URL the manifest meant.
 */
function keepsReference(context: UrlContext, root: string, sealedDirectories: ReadonlyMap<string, { directory: string; query: string | undefined }>): boolean {
  if (/^[A-Za-z][A-Za-z0-9+.-]*:|^\/|\?/.test(context.uri) || !context.outputBase.startsWith(root)) return false;
  let resolved: string;
  try {
    resolved = new URL(context.uri, context.outputBase).href;
  } catch {
    return false;
  }
  if (!resolved.startsWith(root)) return false;
  const slash = resolved.indexOf('/', root.length);
  const sealed = slash === -1 ? undefined : sealedDirectories.get(resolved.slice(root.length, slash));
  if (sealed === undefined || sealed.query !== undefined) return false;
  const rest = resolved.slice(slash + 1);
  if (sealedRestProblem(rest) !== undefined) return false;
  try {
    return resolveSealedPath(sealed.directory, rest, '', undefined) === context.href;
  } catch {
    return false;
  }
}

/**
 * The URL callback of one manifest rewrite, and the URL the output is read from.
 *
 * Every URL becomes a sealed path `<root>/proxy/<token>/<rest>` (see `sealed-path.ts`): the token
 * seals the URL's fixed directory (`templateDirectory`) and its query, the rest is what follows
 * that directory, `$…$` identifiers included, so the player still expands templates and the proxy
 * resolves what comes back. One token per directory and query. A relative URL that already
 * resolves, on the player's side, under a token of this manifest to the same upstream URL (a
 * `BaseURL` `video/` below a rewritten `BaseURL`, a template below either) is kept as it is: then
 * redundant `BaseURL`s stay alternatives, and inherited templates resolve under whichever
 * `BaseURL` the player picks. `Location` and `PatchLocation` seal their whole URL (`manifest`).
 * References are relative to where the manifest is served, so that they work behind any reverse
 * proxy; absolute under `publicBaseUrl` when one is set.
 */
export function manifestUrlRewriter(request: ManifestRequest): { outputUrl: string; rewriteUrl: (context: UrlContext) => string } {
  const origin = request.publicBaseUrl ?? PLACEHOLDER_ORIGIN;
  const outputUrl = new URL(origin + request.requestPath);
  const root = `${origin}/strm/proxy/`;
  const directories = new Map<string, string>();
  const sealedDirectories = new Map<string, { directory: string; query: string | undefined }>();
  let index = 0;

  /** The reference to `target` for a player that resolves it against `outputBase` (the BaseURL in effect, rewritten). */
  const reference = (target: string, outputBase: string) => {
    if (request.publicBaseUrl !== undefined) return target;
    const from = new URL(outputBase);
    // Below a BaseURL the rewrite could not route through the proxy, only an absolute reference is sure to.
    return from.origin === outputUrl.origin ? relativeReference(from, new URL(target)) : target;
  };
  const seal = (payload: ProxyTokenPayload, at: number) => {
    if (request.headers !== undefined) payload.h = request.headers;
    request.locate(payload, at);
    return request.seal(payload);
  };

  const rewriteUrl = (context: UrlContext): string => {
    const at = index++;
    if (context.kind === 'manifest' || context.kind === 'patch') {
      const token = seal({ u: context.href, k: 'manifest' }, at);
      return reference(`${root}${token}/${fileName(context.href, context.kind === 'patch' ? 'patch.mpp' : 'manifest.mpd')}`, context.outputBase);
    }
    if (keepsReference(context, root, sealedDirectories)) return context.uri;
    const directory = templateDirectory(context.href);
    let rest = directory === undefined ? '' : context.href.slice(directory.length);
    let query: string | undefined;
    const queryAt = rest.indexOf('?');
    // A query without identifiers is sealed (CDN tokens stay out of the client's sight); one with
    // identifiers must stay where the player expands it.
    if (queryAt !== -1 && !rest.includes('$', queryAt)) {
      query = rest.slice(queryAt);
      rest = rest.slice(0, queryAt);
    }
    if (directory === undefined || (!context.template && sealedRestProblem(rest) !== undefined)) {
      // Not expressible below a directory (an encoded "/" in the file name…): the whole URL, sealed.
      const token = seal({ u: context.href, k: 'segment' }, at);
      return reference(`${root}${token}/${fileName(context.href, 'media.mp4')}`, context.outputBase);
    }
    const key = `${directory}\n${query ?? ''}`;
    let token = directories.get(key);
    if (token === undefined) {
      const payload: ProxyTokenPayload = { u: directory, k: 'segment', p: 1 };
      if (query !== undefined) payload.q = query;
      token = seal(payload, at);
      directories.set(key, token);
      sealedDirectories.set(token, { directory, query });
    }
    return reference(`${root}${token}/${rest}`, context.outputBase);
  };
  return { outputUrl: outputUrl.href, rewriteUrl };
}

/** The URL a relocated (fresh) manifest URL gives for a sealed directory token: its directory and query, as the rewrite sealed them. */
export function sealedDirectoryOf(href: string): { directory: string; query: string | undefined } | undefined {
  const directory = templateDirectory(href);
  if (directory === undefined) return undefined;
  const rest = href.slice(directory.length);
  const queryAt = rest.indexOf('?');
  return { directory, query: queryAt !== -1 && !rest.includes('$', queryAt) ? rest.slice(queryAt) : undefined };
}

/**
 * What a client is told of each rewrite failure. The rewriter's own message quotes markup of the
 * body (which can hold upstream URLs and their tokens): it goes to the log only.
 */
const MANIFEST_FAULTS: Readonly<Record<string, string>> = {
  DASH_NOT_A_MANIFEST: 'the upstream answer is not a DASH manifest: it holds no MPD root element',
  DASH_INVALID_TEXT: 'the upstream manifest is not UTF-8 text (binary data or control characters)',
  DASH_ELEMENT_TOO_LARGE: `a piece of markup of the upstream manifest is longer than ${MAX_ELEMENT_LENGTH / 1024 / 1024} MiB`,
  DASH_TRUNCATED: 'the upstream manifest is cut short',
  DASH_MALFORMED: 'the upstream manifest is not well-formed XML',
};

function badManifest(error: unknown, limits: RewriteLimitConfig): ProxyError {
  if (error instanceof ProxyError) return error;
  const limited = rewriteLimitError(error, 'manifest', limits);
  if (limited !== undefined) return limited;
  if (error instanceof PlaylistTooLargeError) return new ProxyError('STRM_BAD_MANIFEST', `the upstream manifest is larger than ${MAX_PLAYLIST_BYTES / 1024 / 1024} MiB`);
  if (error instanceof DashRewriteError) {
    const told = MANIFEST_FAULTS[error.code] ?? `the upstream DASH manifest could not be rewritten (${error.code})`;
    return new ProxyError('STRM_BAD_MANIFEST', told, { cause: error });
  }
  return new ProxyError('STRM_UPSTREAM_FAILED', 'the upstream manifest could not be read to its end', { cause: error });
}

/** Rewrite counts in the shape of the proxy's rewrite metric (by element, where playlists count by tag). */
function asRewriteCounts(stats: DashRewriteStats): PlaylistRewriteStats {
  return { uris: stats.urls, byTag: stats.byElement, skipped: stats.skipped, warnings: stats.warnings, lines: 0 };
}

/**
 * Answers with the rewritten manifest while it is read. One that fits in 1 MiB once rewritten
 * (almost all) gets an exact Content-Length and any fault is a clean 502; a larger one is sent
 * chunked with backpressure, memory bounded by its largest element, and a fault after the first
 * bytes aborts the connection (a cut manifest never looks whole).
 */
export async function sendManifest(
  ctx: RequestContext,
  fetched: { upstream: UpstreamResponse; head: readonly Buffer[]; request: ManifestRequest; limits: RewriteLimitConfig },
): Promise<void> {
  const { upstream } = fetched;
  if (ctx.method === 'HEAD') {
    discardBody(upstream.body);
    ctx.writeHead(200, { ...MANIFEST_HEADERS });
    ctx.res.end();
    return;
  }
  const { outputUrl, rewriteUrl } = manifestUrlRewriter(fetched.request);
  const rewriter = new ManifestRewriter({ baseUrl: upstream.url, outputUrl, rewriteUrl, maxElementLength: MAX_ELEMENT_LENGTH, ...manifestLimitOptions(fetched.limits) });
  const { res } = ctx;
  let held: Buffer[] = [];
  let heldBytes = 0;
  let streaming = false;

  const emit = async (text: string) => {
    if (text === '') return;
    const bytes = Buffer.from(text, 'utf8');
    if (streaming) {
      ctx.bytes += bytes.length;
      if (!res.write(bytes)) await once(res, 'drain');
      return;
    }
    held.push(bytes);
    heldBytes += bytes.length;
    if (heldBytes > BUFFERED_OUTPUT_BYTES) {
      streaming = true;
      ctx.writeHead(200, { ...MANIFEST_HEADERS });
      for (const chunk of held) res.write(chunk);
      ctx.bytes += heldBytes;
      held = [];
    }
  };

  try {
    for await (const piece of pacedPieces(cappedPlaylistChunks(fetched.head, upstream.body), TAG_END)) await emit(rewriter.push(piece));
    await emit(rewriter.end());
  } catch (error) {
    discardBody(upstream.body);
    if (!streaming) throw badManifest(error, fetched.limits);
    cutAnswer(res);
    return;
  } finally {
    ctx.countRewrites(asRewriteCounts(rewriter.stats));
  }
  if (streaming) {
    res.end();
    return;
  }
  sendHeldDocument(ctx, MANIFEST_HEADERS, held.length === 1 ? held[0]! : Buffer.concat(held));
}
