// An origin the fuzz controls, on loopback: for case <n> it serves a mutated playlist
// (`/hls/<n>/index.m3u8`) or manifest (`/dash/<n>/manifest.mpd`), and for anything below a case a
// small body; each answer drawn from the seed may also lie in its headers (wrong length, wrong type,
// 206/304/416/5xx, a redirect, a cut or a slow drip). Same seed, same bytes.
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fixtureMediaDir } from '@strm/e2e';
import { SeededRandom } from '../harness/random';
import { mutateManifest } from './mutate-mpd';
import { mutatePlaylist, type MutationScale } from './mutate-playlist';

const HLS_BASES = ['hls-ts/master.m3u8', 'hls-ts/video/180p/index.m3u8', 'hls-ts/audio/en/index.m3u8', 'hls-ts/iframes/index.m3u8', 'hls-fmp4/stream/index.m3u8', 'hls-byterange/index.m3u8'];
const DASH_BASES = ['dash-template/manifest.mpd', 'dash-timeline/manifest.mpd', 'dash-single-file/manifest.mpd', 'dash-segment-base/manifest.mpd', 'dash-multi-period/manifest.mpd'];

export interface HostileOrigin {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** `127.0.0.1:<port>`: what no client message of the proxy may name. */
  readonly host: string;
  /** Requests answered so far. */
  readonly served: number;
  close(): Promise<void>;
}

type Body = { bytes: Buffer; type: string };

/** The body of one path: a mutated document for a case's entry, a small body for the rest. */
function bodyFor(seed: number, scale: MutationScale, kind: string, caseNumber: number, file: string): Body {
  const random = new SeededRandom(seed).fork(caseNumber * 7 + (kind === 'dash' ? 1 : 0) + file.length * 31);
  if (kind === 'hls' && file.endsWith('.m3u8')) {
    const base = readFileSync(join(fixtureMediaDir, random.pick(HLS_BASES)), 'utf8');
    return { bytes: mutatePlaylist(random, base, scale), type: 'application/vnd.apple.mpegurl' };
  }
  if (kind === 'dash' && file.endsWith('.mpd')) {
    const base = readFileSync(join(fixtureMediaDir, random.pick(DASH_BASES)), 'utf8');
    return { bytes: mutateManifest(random, base, scale), type: 'application/dash+xml' };
  }
  return { bytes: random.bytes(random.int(0, 64 * 1024)), type: 'video/mp2t' };
}

/** Writes `body` as the answer style drawn for this request says. */
function answer(res: ServerResponse, body: Body, random: SeededRandom, kind: string, caseNumber: number): void {
  const { bytes } = body;
  const style = random.int(0, 39);
  const type = style === 1 ? undefined : style === 2 ? random.pick(['text/plain', 'application/octet-stream', 'video/mp2t', 'text/html; charset=utf-8', 'application/x-mpegURL']) : body.type;
  const headers: Record<string, string> = type === undefined ? {} : { 'content-type': type };
  switch (style) {
    case 3: // announces more than it sends, then closes: a cut
      res.writeHead(200, { ...headers, 'content-length': String(bytes.length + 1000) });
      res.write(bytes.subarray(0, Math.floor(bytes.length / 2)));
      res.destroy();
      return;
    case 4: // chunked, then cut mid-body
      res.writeHead(200, headers);
      res.write(bytes.subarray(0, Math.floor(bytes.length / 2)));
      setImmediate(() => res.destroy());
      return;
    case 5: res.writeHead(206, { ...headers, 'content-range': `bytes 0-${Math.max(0, bytes.length - 1)}/${bytes.length + 5}` }).end(bytes); return;
    case 6: res.writeHead(304, { etag: '"x"' }).end(); return;
    case 7: res.writeHead(416, { 'content-range': `bytes */${bytes.length}` }).end(); return;
    case 8: res.writeHead(random.pick([500, 502, 503, 404, 403, 410, 429]), { 'content-type': 'text/plain' }).end(`upstream says no at ${res.req.url}`); return;
    case 9: res.writeHead(302, { location: `/${kind}/${caseNumber + 1}/${kind === 'dash' ? 'manifest.mpd' : 'index.m3u8'}` }).end(); return;
    case 10: res.writeHead(204).end(); return;
    case 11: { // a slow drip in three parts (bounded: 150 ms in all)
      res.writeHead(200, { ...headers, 'content-length': String(bytes.length) });
      const third = Math.ceil(bytes.length / 3);
      res.write(bytes.subarray(0, third));
      setTimeout(() => res.write(bytes.subarray(third, 2 * third)), 75);
      setTimeout(() => res.end(bytes.subarray(2 * third)), 150);
      return;
    }
    case 12: res.writeHead(200, { ...headers, 'content-length': String(Math.max(0, bytes.length - 10)) }).end(bytes.subarray(0, Math.max(0, bytes.length - 10))); return;
    default: res.writeHead(200, { ...headers, 'content-length': String(bytes.length), etag: `"${caseNumber}"` }).end(bytes);
  }
}

/** A 31-bit hash of a text (FNV-1a): a path's own stream of draws. */
function textHash(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i += 1) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  return hash >>> 1;
}

/** Starts the hostile origin; `scale` bounds the mutations (short or long mode). */
export async function startHostileOrigin(seed: number, scale: MutationScale): Promise<HostileOrigin> {
  let served = 0;
  // Per path, the n-th request draws the n-th answer style: the same whatever the order of arrival.
  const asked = new Map<string, number>();
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    served += 1;
    res.on('error', () => {});
    const match = /^\/(hls|dash)\/(\d+)\/(.*)$/.exec((req.url ?? '').split('?')[0]!);
    if (match === null) {
      res.writeHead(404).end();
      return;
    }
    const [, kind, number, file] = match as unknown as [string, string, string, string];
    const body = bodyFor(seed, scale, kind, Number(number), file);
    const path = req.url ?? '';
    const nth = asked.get(path) ?? 0;
    asked.set(path, nth + 1);
    answer(res, body, new SeededRandom(seed).fork(textHash(path) + nth), kind, Number(number));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    get served() {
      return served;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
