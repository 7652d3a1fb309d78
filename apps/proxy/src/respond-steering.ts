import {
  HlsRewriteError, MAX_STEERING_MANIFEST_BYTES, mediaFileName, parseSteeringManifest, readSteeringPathways, rewriteSteeringManifest, steeringNeedsPathways,
  type SteeringManifest, type SteeringPathways, type SteeringUriContext,
} from '@strm/hls-rewrite';
import type { TokenSealer } from '@strm/signing';
import { discardBody } from './body-pump';
import { ProxyError } from './errors';
import { mintReference, readUpstreamPlaylist, type LinkLineage, type LinkPayload } from './playlist-links';
import type { RequestContext } from './request-context';
import type { ProxyTokenPayload } from './tokens';
import type { UpstreamResponse } from './upstream';
import type { UpstreamDeps, UpstreamTarget } from './upstream-retry';

/**
 * The query parameters a client adds to every steering request (HLS Content Steering, "Steering
 * Manifest Requests"): the pathway it uses and its throughput. The origin's steering server
 * decides by them, so they are forwarded; nothing else of the client's query is.
 */
const STEERING_PARAMETERS: readonly string[] = ['_HLS_pathway', '_HLS_throughput'];

const STEERING_HEADERS = Object.freeze({
  'content-type': 'application/json',
  'cache-control': 'no-store',
});

/**
 * The upstream URL of a steering request: the sealed URL with the client's `_HLS_pathway` and
 * `_HLS_throughput` set on it (replacing the sealed URL's own, as a client would), the rest of its
 * query kept byte for byte (a CDN's signature must not be re-encoded).
 *
 * @example
 * steeringUpstreamUrl('https://steer.example/m.json?sig=a~b', '/strm/proxy/T/m.json?_HLS_pathway=B&_HLS_throughput=80000&x=1')
 * // 'https://steer.example/m.json?sig=a~b&_HLS_pathway=B&_HLS_throughput=80000'
 */
export function steeringUpstreamUrl(upstreamUrl: string, requestTarget: string): string {
  const queryAt = requestTarget.indexOf('?');
  const asked = new URLSearchParams(queryAt === -1 ? '' : requestTarget.slice(queryAt + 1));
  const forwarded = STEERING_PARAMETERS.flatMap((name) => {
    const value = asked.get(name);
    return value === null ? [] : [`${name}=${encodeURIComponent(value)}`];
  });
  if (forwarded.length === 0) return upstreamUrl;
  const hashAt = upstreamUrl.indexOf('#');
  const withoutFragment = hashAt === -1 ? upstreamUrl : upstreamUrl.slice(0, hashAt);
  const upstreamQueryAt = withoutFragment.indexOf('?');
  const path = upstreamQueryAt === -1 ? withoutFragment : withoutFragment.slice(0, upstreamQueryAt);
  const replaced = new Set(STEERING_PARAMETERS.filter((name) => asked.has(name)));
  const kept = upstreamQueryAt === -1 ? [] : withoutFragment.slice(upstreamQueryAt + 1).split('&').filter((pair) => pair !== '' && !replaced.has(pair.split('=', 1)[0]!));
  return `${path}?${[...kept, ...forwarded].join('&')}`;
}

/** The body of a steering answer, up to {@link MAX_STEERING_MANIFEST_BYTES}; a larger one is a 502. */
async function readSteeringBody(upstream: UpstreamResponse, head: readonly Buffer[]): Promise<Buffer> {
  const chunks: Buffer[] = [...head];
  let size = chunks.reduce((sum, chunk) => sum + chunk.length, 0);
  try {
    for await (const chunk of upstream.body) {
      chunks.push(chunk as Buffer);
      size += (chunk as Buffer).length;
      if (size > MAX_STEERING_MANIFEST_BYTES) break;
    }
  } catch (error) {
    throw new ProxyError('STRM_UPSTREAM_FAILED', 'the upstream steering manifest could not be read to its end', { cause: error });
  }
  if (size > MAX_STEERING_MANIFEST_BYTES) {
    discardBody(upstream.body);
    throw new ProxyError('STRM_BAD_STEERING_MANIFEST', `the upstream content steering manifest is larger than ${MAX_STEERING_MANIFEST_BYTES / 1024} KiB`);
  }
  return Buffer.concat(chunks);
}

function parseOrRefuse(body: Buffer): SteeringManifest {
  try {
    return parseSteeringManifest(body);
  } catch (error) {
    if (error instanceof HlsRewriteError) throw new ProxyError('STRM_BAD_STEERING_MANIFEST', `the upstream content steering manifest could not be rewritten: ${error.message}`, { cause: error });
    throw error;
  }
}

/**
 * The variants of the multivariant playlist that named the steering manifest, fetched again for
 * its `HOST`/`PARAMS` clones; undefined when it cannot be had (the clones then play their base
 * pathway through the proxy rather than fail).
 */
async function multivariantPathways(deps: UpstreamDeps, target: UpstreamTarget): Promise<SteeringPathways | undefined> {
  try {
    const { body, url } = await readUpstreamPlaylist(deps, target);
    return readSteeringPathways(body.toString('utf8'), url);
  } catch {
    return undefined;
  }
}

/** What a steering answer needs from its request. */
export interface SteeringRequest {
  deps: UpstreamDeps;
  tokens: TokenSealer<ProxyTokenPayload>;
  /** The headers its URIs are fetched with (the resolver's). */
  headers: Record<string, string>;
  lineage: LinkLineage | undefined;
  /** The multivariant playlist's URL (from the steering link). */
  multivariant: string | undefined;
  /** Where the links point (`reference-base.ts`); undefined = relative. */
  base: string | undefined;
}

/** Seals each URI of a steering manifest: `RELOAD-URI` as the next steering link, pathway URIs as playlists. */
function steeringMinter(request: SteeringRequest): (context: SteeringUriContext) => string {
  return (context) => {
    const steering = context.kind === 'steering';
    const link: LinkPayload = {
      url: context.href,
      headers: request.headers,
      kind: context.kind,
      // The next steering manifest is found again like this one (through the SERVER-URI of a fresh
      // multivariant playlist); a pathway's own URIs have no route in the playlists to walk.
      lineage: steering ? request.lineage : undefined,
      subtitles: false,
    };
    if (steering && request.multivariant !== undefined) link.multivariant = request.multivariant;
    const name = mediaFileName({ url: undefined, href: context.href, kind: context.kind, hasMap: false });
    return mintReference(request.tokens, link, name, { servedFrom: 'proxy', base: request.base });
  };
}

/**
 * Answers with the rewritten content steering manifest: every URI in it comes back through the
 * proxy, and the clones a client would build with `HOST`/`PARAMS` are expanded into proxy URIs
 * from the multivariant playlist's variants. Invalid JSON or an oversized manifest is a 502
 * `STRM_BAD_STEERING_MANIFEST`.
 */
export async function sendSteering(ctx: RequestContext, fetched: { upstream: UpstreamResponse; head: readonly Buffer[]; request: SteeringRequest }): Promise<void> {
  const { upstream, request } = fetched;
  if (ctx.method === 'HEAD') {
    discardBody(upstream.body);
    ctx.writeHead(200, { ...STEERING_HEADERS });
    ctx.res.end();
    return;
  }
  const manifest = parseOrRefuse(await readSteeringBody(upstream, fetched.head));
  const pathways = steeringNeedsPathways(manifest) && request.multivariant !== undefined
    ? await multivariantPathways(request.deps, { url: request.multivariant, headers: request.headers })
    : undefined;
  const { text, stats } = rewriteSteeringManifest(manifest, { baseUrl: String(upstream.url), pathways, rewriteUri: steeringMinter(request) });
  ctx.countRewrites({ uris: stats.uris, byTag: stats.uris > 0 ? { 'STEERING-MANIFEST': stats.uris } : {}, skipped: 0, warnings: stats.warnings, lines: 0 });
  const body = Buffer.from(text, 'utf8');
  ctx.writeHead(200, { ...STEERING_HEADERS, 'content-length': String(body.length) });
  ctx.bytes += body.length;
  ctx.res.end(body);
}
