import { createHash } from 'node:crypto';
import { request } from 'undici';
import { redact } from './tools';

/** A URI found in a playlist: a URI line or a `URI="…"` attribute, in playlist order. */
interface PlaylistUri {
  readonly uri: string;
  readonly where: 'line' | 'attribute';
  /** The tag (for attributes) or `#EXTINF`-style line before a URI line, for messages. */
  readonly context: string;
}

/** Every URI of a playlist in order: URI lines, and `URI="…"` attributes of tags. */
export function playlistUris(text: string): PlaylistUri[] {
  const uris: PlaylistUri[] = [];
  for (const raw of text.replace(/^\uFEFF/, '').split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '') continue;
    if (line.startsWith('#')) {
      const tag = line.split(':')[0]!;
      for (const match of line.matchAll(/(?:^|[,:])URI="([^"]*)"/g)) uris.push({ uri: match[1]!, where: 'attribute', context: tag });
    } else {
      uris.push({ uri: line, where: 'line', context: 'URI line' });
    }
  }
  return uris;
}

/** One resource reached by walking a playlist tree both directly and through the proxy. */
export interface WalkedResource {
  /** Chain of playlist file names from the entry down, e.g. `master.m3u8 > 180p/index.m3u8`. */
  readonly from: string;
  readonly where: PlaylistUri['where'];
  readonly context: string;
  readonly directUrl: string;
  /** The URI as the rewritten playlist holds it. */
  readonly proxiedUri: string;
  readonly proxiedUrl: string;
  readonly playlist: boolean;
  readonly directStatus: number;
  readonly proxiedStatus: number;
  readonly directBytes: number;
  readonly proxiedBytes: number;
  readonly directSha256: string;
  readonly proxiedSha256: string;
  /** First byte offset where the bodies differ (media only), undefined when equal. */
  readonly firstDifference: number | undefined;
}

async function get(url: string, headers: Record<string, string>): Promise<{ status: number; body: Buffer }> {
  const response = await request(url, { headers });
  return { status: response.statusCode, body: Buffer.from(await response.body.arrayBuffer()) };
}

function isPlaylist(body: Buffer): boolean {
  return /^(\uFEFF)?\s*#EXTM3U/.test(body.subarray(0, 64).toString('utf8'));
}

function firstDifference(a: Buffer, b: Buffer): number | undefined {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i += 1) if (a[i] !== b[i]) return i;
  return a.length === b.length ? undefined : length;
}

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex').slice(0, 16);
const lastSegments = (url: string) => new URL(url).pathname.split('/').slice(-2).join('/');

/**
 * Walks a playlist tree twice in step: from the CDN (`directEntry`) and through the proxy
 * (`proxiedEntry`, whose playlists are rewritten). A rewritten playlist keeps every URI in its
 * place, so the i-th URI of one is the i-th of the other. Media bodies are compared byte for byte;
 * playlists are walked into. Every resource is fetched whole, once.
 */
export async function walkBoth(
  proxiedEntry: string,
  directEntry: string,
  options: { directHeaders?: Record<string, string> } = {},
): Promise<{ resources: WalkedResource[]; playlists: Array<{ from: string; proxiedUrl: string; text: string }> }> {
  const resources: WalkedResource[] = [];
  const playlists: Array<{ from: string; proxiedUrl: string; text: string }> = [];
  const directHeaders = options.directHeaders ?? {};
  const seen = new Set<string>();

  async function walk(proxiedUrl: string, directUrl: string, from: string): Promise<void> {
    const [proxied, direct] = await Promise.all([get(proxiedUrl, {}), get(directUrl, directHeaders)]);
    if (proxied.status !== 200 || !isPlaylist(proxied.body)) {
      throw new Error(`${from}: expected a playlist from ${redact(proxiedUrl)}, received ${proxied.status} ${proxied.body.subarray(0, 80).toString('utf8')}`);
    }
    const proxiedText = proxied.body.toString('utf8');
    playlists.push({ from, proxiedUrl, text: proxiedText });
    const proxiedUris = playlistUris(proxiedText);
    const directUris = playlistUris(direct.body.toString('utf8'));
    if (proxiedUris.length !== directUris.length) {
      throw new Error(`${from}: the rewritten playlist holds ${proxiedUris.length} URIs, the CDN's ${directUris.length}`);
    }
    for (const [index, proxiedUri] of proxiedUris.entries()) {
      const directUri = directUris[index]!;
      const nextProxied = new URL(proxiedUri.uri, proxiedUrl).href;
      const nextDirect = new URL(directUri.uri, directUrl).href;
      if (seen.has(nextDirect)) continue;
      seen.add(nextDirect);
      const [proxiedBody, directBody] = await Promise.all([get(nextProxied, {}), get(nextDirect, directHeaders)]);
      const playlist = isPlaylist(directBody.body);
      resources.push({
        from,
        where: proxiedUri.where,
        context: proxiedUri.context,
        directUrl: nextDirect,
        proxiedUri: proxiedUri.uri,
        proxiedUrl: nextProxied,
        playlist,
        directStatus: directBody.status,
        proxiedStatus: proxiedBody.status,
        directBytes: directBody.body.length,
        proxiedBytes: proxiedBody.body.length,
        directSha256: sha256(directBody.body),
        proxiedSha256: sha256(proxiedBody.body),
        firstDifference: playlist ? undefined : firstDifference(directBody.body, proxiedBody.body),
      });
      if (playlist) await walk(nextProxied, nextDirect, `${from} > ${lastSegments(nextDirect)}`);
    }
  }

  await walk(proxiedEntry, directEntry, lastSegments(directEntry));
  return { resources, playlists };
}

/** Resources whose proxied body differs from the direct one (or failed), described for a failure message. */
export function mismatches(resources: readonly WalkedResource[]): string[] {
  return resources
    .filter((r) => r.proxiedStatus !== 200 || r.directStatus !== 200 || (!r.playlist && r.firstDifference !== undefined))
    .map((r) =>
      `${r.from}: ${r.context} ${lastSegments(r.directUrl)} → ${r.proxiedUri.slice(-40)}: direct ${r.directStatus} ${r.directBytes} B sha256 ${r.directSha256}, ` +
      `proxied ${r.proxiedStatus} ${r.proxiedBytes} B sha256 ${r.proxiedSha256}${r.firstDifference === undefined ? '' : `, first differing byte at offset ${r.firstDifference}`}`,
    );
}
