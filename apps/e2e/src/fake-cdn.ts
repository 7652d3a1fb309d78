import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { endianness } from 'node:os';
import { extname, resolve, sep } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fixtureMediaDir, mediaFixtures } from './fixtures';
import { createLiveOrigin, type LiveOriginOptions } from './live-origin';

/**
 * Misbehaviours of real CDNs, switched on per issued URL. Every URL resolved relative to an issued
 * URL (segments, keys, child playlists) shares its token, and so its faults and its counters,
 * the way path-token CDNs behave.
 *
 * @example
 * ```ts
 * cdn.issue('hls-ts/master.m3u8', { expireAfterUses: 3, requireReferer: 'https://aniworld.to/' });
 * ```
 */
export interface CdnFaults {
  /** 403 once this many requests under the token were answered (failures of `failFirst` excluded). */
  readonly expireAfterUses?: number;
  /** 403 once this many milliseconds passed since `issue()` (by the CDN's clock, see `now`). */
  readonly expireAfterMs?: number;
  /** 403 for a request from any other remote address (the VPN problem). */
  readonly bindToAddress?: string;
  /** 403 unless the `Referer` header starts with this value. */
  readonly requireReferer?: string;
  /** Content-Type of playlists instead of `application/vnd.apple.mpegurl` (or `text/plain` under `.txt`). */
  readonly playlistContentType?: string;
  /** Playlists, and every playlist URI inside them, are served under `.txt` instead of `.m3u8`. */
  readonly playlistPathSuffix?: '.txt';
  /** Segment URIs inside playlists are renamed to this extension (`none`: no extension) and served so, with the matching Content-Type. */
  readonly disguiseSegments?: 'jpg' | 'png' | 'html' | 'none';
  /** 302 to the same path on this host name (same port) when asked under another one. */
  readonly redirectToHost?: string;
  /** Always 200 with the whole body, no `Accept-Ranges`. */
  readonly ignoreRange?: boolean;
  /** Destroy the socket after this many body bytes... */
  readonly dropAfterBytes?: number;
  /** ...for this many body-bearing requests under the token (default 1). */
  readonly dropTimes?: number;
  /** Throttle every body to this rate. */
  readonly bytesPerSecond?: number;
  /** Wait this long before sending the status line (an origin slow to answer). */
  readonly delayHeadersMs?: number;
  /** Answer HEAD with this status (and `Allow: GET`). */
  readonly headStatus?: 405 | 501;
  /** Answer the first `count` requests under the token with `status`. */
  readonly failFirst?: { readonly count: number; readonly status: number };
  /** Playlists start with a UTF-8 byte order mark (RFC 8216 forbids it, ffmpeg refuses it). */
  readonly bom?: boolean;
}

/** Which fault decided a response, in the request log. */
export type CdnFaultName =
  | 'unknown-token'
  | 'expired-uses'
  | 'expired-time'
  | 'wrong-address'
  | 'missing-referer'
  | 'redirect'
  | 'fail-first'
  | 'head-refused'
  | 'dropped'
  | 'range-ignored';

/** One request the fake CDN received. Fields are filled in while the response is sent. */
export interface CdnRequestLog {
  readonly method: string;
  /** Request path as received, token included. */
  readonly path: string;
  /** Token of a `/t/<token>/…` path. */
  readonly token: string | undefined;
  /** Path inside the token (or the whole path), e.g. `hls-ts/video/180p/seg0.jpg`. */
  readonly resource: string;
  /** The query, with its `?`, or `''` (LL-HLS Delivery Directives, a content steering request's `_HLS_pathway`…). */
  readonly query: string;
  readonly range: string | undefined;
  readonly ifRange: string | undefined;
  readonly referer: string | undefined;
  readonly host: string | undefined;
  /** Remote address without the `::ffff:` prefix. */
  readonly remoteAddress: string;
  /** `now()` when the request arrived. */
  readonly time: number;
  status: number;
  /** Body bytes written to the socket. */
  bytesSent: number;
  fault: CdnFaultName | undefined;
  /** True once the response completed; false while sending, or when the body was cut. */
  completed: boolean;
}

/** A running fake CDN. */
export interface FakeCdn {
  /** `http://<host>:<port>` */
  readonly origin: string;
  readonly host: string;
  readonly port: number;
  /**
   * A fresh token URL for `path` (relative to the media folder, or `big/<bytes>.bin`):
   * `<origin>/t/<token>/<path>`, with `.m3u8` turned into `.txt` when `playlistPathSuffix` is set.
   */
  issue(path: string, faults?: CdnFaults): string;
  /** The plain URL of `path`: no token, no faults. */
  url(path: string): string;
  /** Every request so far, oldest first. */
  readonly requests: readonly CdnRequestLog[];
  /** Requests answered under a token (the uses that count towards `expireAfterUses`). */
  usesOf(tokenOrUrl: string): number;
  /** Sockets currently open to the server (for leak tests). */
  openSockets(): number;
  /** Connections accepted since the start (the server's 'connection' events). */
  connections(): number;
  /**
   * Resolves once at most `count` sockets are open, checked on every socket close (leak tests
   * await this instead of polling); rejects after `timeoutMs` with the count still open.
   */
  openSocketsAtMost(count: number, timeoutMs: number): Promise<void>;
  /** Stops listening and destroys open connections. */
  close(): Promise<void>;
}

/** Options of {@link startFakeCdn}. */
export interface FakeCdnOptions {
  /** Listen address, loopback only in tests. Default `127.0.0.1`. */
  readonly host?: string;
  /** Default 0 (any free port). */
  readonly port?: number;
  /** Folder served. Default: the committed fixtures ({@link fixtureMediaDir}). */
  readonly mediaDir?: string;
  /** Clock for `expireAfterMs` and the log, in milliseconds. Default `Date.now`. */
  readonly now?: () => number;
  /**
   * The live origins under `live/` (sliding window) and `ll/` (low-latency HLS), from this media
   * (`tools/fixtures/generate-live-media.mjs`); without it those paths are 404.
   */
  readonly live?: Omit<LiveOriginOptions, 'now'>;
}

interface TokenState {
  readonly faults: CdnFaults;
  readonly issuedAt: number;
  uses: number;
  failuresServed: number;
  dropsDone: number;
}

interface Resource {
  readonly size: number;
  readonly etag: string;
  readonly lastModified: Date;
  readonly contentType: string;
  /** Body bytes [start, end) as chunks. */
  readonly read: (start: number, end: number) => AsyncIterable<Buffer>;
}

type RangePlan =
  | { readonly kind: 'full' }
  | { readonly kind: 'partial'; readonly start: number; readonly end: number }
  | { readonly kind: 'unsatisfiable' };

const PLAYLIST_TYPE = 'application/vnd.apple.mpegurl';
const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.m3u8': PLAYLIST_TYPE,
  '.mpd': 'application/dash+xml',
  '.ts': 'video/mp2t',
  '.mp4': 'video/mp4',
  '.m4s': 'video/iso.segment',
  '.m4a': 'audio/mp4',
  '.aac': 'audio/aac',
  '.vtt': 'text/vtt',
  '.key': 'application/octet-stream',
  '.bin': 'application/octet-stream',
  '.txt': 'text/plain; charset=utf-8',
  '.json': 'application/json',
};
const DISGUISE_TYPES: Readonly<Record<NonNullable<CdnFaults['disguiseSegments']>, string>> = {
  jpg: 'image/jpeg',
  png: 'image/png',
  html: 'text/html; charset=utf-8',
  none: 'application/octet-stream',
};
/** Real extensions tried, in order, for a disguised segment name. */
const SEGMENT_EXTENSIONS = ['.ts', '.m4s', '.mp4', '.aac', '.m4a', '.vtt'];
const BIG_FILE = /^big\/(\d{1,12})\.bin$/;
const PAGE = /^pages\/([a-z0-9-]+)\.html$/;
const PAGE_LAST_MODIFIED = new Date(Date.UTC(2024, 0, 1));
const BIG_FILE_MAX = 64 * 1024 ** 3;
const BIG_FILE_LAST_MODIFIED = new Date(Date.UTC(2024, 0, 1));
const CHUNK = 64 * 1024;
const BIG_CHUNK_CACHE_BYTES = 64 * 1024 * 1024;
const UTF8_BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/**
 * Starts the fake CDN: a real `node:http` server over the fixture media (or `mediaDir`), with
 * exact single-range support, HEAD, ETag/Last-Modified, If-Range, conditional GET, synthetic
 * `/big/<bytes>.bin` files, and per-URL {@link CdnFaults}.
 *
 * @example
 * ```ts
 * const cdn = await startFakeCdn();
 * const url = cdn.issue('mp4-faststart/video.mp4', { expireAfterUses: 1 });
 * (await fetch(url)).status; // 200
 * (await fetch(url)).status; // 403
 * await cdn.close();
 * ```
 */
export async function startFakeCdn(options: FakeCdnOptions = {}): Promise<FakeCdn> {
  const host = options.host ?? '127.0.0.1';
  const mediaDir = resolve(options.mediaDir ?? fixtureMediaDir);
  const now = options.now ?? Date.now;
  if (options.port !== undefined && (!Number.isInteger(options.port) || options.port < 0 || options.port > 65535)) {
    throw new TypeError(`startFakeCdn: options.port must be an integer 0..65535, received ${String(options.port)}`);
  }
  const tokens = new Map<string, TokenState>();
  const requests: CdnRequestLog[] = [];
  const sockets = new Set<Socket>();
  const socketWaiters = new Set<() => void>();
  const bigChunks = new BigChunkCache();
  const live = options.live === undefined ? undefined : createLiveOrigin({ ...options.live, now });
  let port = 0;

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      // A bug in the fake must fail loudly in the test that hit it, not hang it.
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`fake CDN error: ${error instanceof Error ? error.message : String(error)}`);
      } else {
        res.destroy();
      }
    });
  });
  let accepted = 0;
  server.on('connection', (socket: Socket) => {
    accepted += 1;
    sockets.add(socket);
    socket.once('close', () => {
      sockets.delete(socket);
      for (const check of socketWaiters) check();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const rawPath = (req.url ?? '/').split('?')[0] ?? '/';
    const query = (req.url ?? '').slice(rawPath.length);
    const tokenMatch = /^\/t\/([A-Za-z0-9_-]+)\/(.*)$/.exec(rawPath);
    const token = tokenMatch?.[1];
    const encodedResource = tokenMatch ? (tokenMatch[2] ?? '') : rawPath.slice(1);
    const log: CdnRequestLog = {
      method: req.method ?? 'GET',
      path: rawPath,
      token,
      resource: safeDecode(encodedResource) ?? encodedResource,
      query,
      range: header(req, 'range'),
      ifRange: header(req, 'if-range'),
      referer: header(req, 'referer'),
      host: header(req, 'host'),
      remoteAddress: normalizeAddress(req.socket.remoteAddress),
      time: now(),
      status: 0,
      bytesSent: 0,
      fault: undefined,
      completed: false,
    };
    requests.push(log);
    const reply = (status: number, fault: CdnFaultName | undefined, headers: Record<string, string> = {}, text = '') => {
      log.status = status;
      log.fault = fault;
      const body = req.method === 'HEAD' ? '' : text;
      res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': String(Buffer.byteLength(text)), ...headers });
      res.end(body, () => {
        log.bytesSent = Buffer.byteLength(body);
        log.completed = true;
      });
    };

    if (req.method !== 'GET' && req.method !== 'HEAD') return reply(405, undefined, { allow: 'GET, HEAD' }, 'method not allowed\n');
    const state = token === undefined ? undefined : tokens.get(token);
    if (token !== undefined && state === undefined) return reply(403, 'unknown-token', {}, 'invalid token\n');
    const faults: CdnFaults = state?.faults ?? {};

    if (faults.redirectToHost !== undefined && hostnameOf(log.host) !== faults.redirectToHost.toLowerCase()) {
      return reply(302, 'redirect', { location: `http://${faults.redirectToHost}:${port}${req.url ?? '/'}` });
    }
    if (faults.delayHeadersMs !== undefined) {
      if ((await Promise.race([sleep(faults.delayHeadersMs), whenClosed(res)])) === 'closed') return;
    }
    if (state !== undefined) {
      if (faults.expireAfterUses !== undefined && state.uses >= faults.expireAfterUses) {
        return reply(403, 'expired-uses', {}, 'token expired\n');
      }
      if (faults.expireAfterMs !== undefined && now() - state.issuedAt >= faults.expireAfterMs) {
        return reply(403, 'expired-time', {}, 'token expired\n');
      }
    }
    if (faults.bindToAddress !== undefined && log.remoteAddress !== normalizeAddress(faults.bindToAddress)) {
      return reply(403, 'wrong-address', {}, 'token bound to another address\n');
    }
    if (faults.requireReferer !== undefined && !(log.referer ?? '').startsWith(faults.requireReferer)) {
      return reply(403, 'missing-referer', {}, 'referer required\n');
    }
    if (state !== undefined && faults.failFirst !== undefined && state.failuresServed < faults.failFirst.count) {
      state.failuresServed += 1;
      return reply(faults.failFirst.status, 'fail-first', {}, 'origin failure\n');
    }
    if (state !== undefined) state.uses += 1;
    if (req.method === 'HEAD' && faults.headStatus !== undefined) {
      return reply(faults.headStatus, 'head-refused', { allow: 'GET' });
    }

    const decoded = safeDecode(encodedResource);
    if (decoded !== undefined && live?.serve(req, res, decoded, new URLSearchParams(query), log)) return;
    const resource = decoded === undefined ? undefined : await findResource(decoded, faults);
    if (resource === undefined) return reply(404, undefined, {}, 'not found\n');
    await sendResource(req, res, resource, faults, state, log);
  }

  async function findResource(path: string, faults: CdnFaults): Promise<Resource | undefined> {
    const big = BIG_FILE.exec(path);
    if (big) {
      const size = Number(big[1]);
      return size <= BIG_FILE_MAX ? bigFileResource(size, bigChunks) : undefined;
    }
    const page = PAGE.exec(path);
    if (page) return videoPageResource(page[1]!);
    for (const candidate of candidatePaths(path, faults)) {
      const absolute = resolve(mediaDir, candidate.file);
      if (absolute !== mediaDir && !absolute.startsWith(mediaDir + sep)) return undefined;
      const info = await stat(absolute).catch(() => undefined);
      if (!info?.isFile()) continue;
      const ext = extname(absolute).toLowerCase();
      if (ext === '.m3u8') {
        const contentType = faults.playlistContentType ?? (candidate.servedAs === '.txt' ? CONTENT_TYPES['.txt']! : PLAYLIST_TYPE);
        return playlistResource(await readFile(absolute, 'utf8'), faults, contentType, info.mtime);
      }
      const contentType = candidate.disguise !== undefined
        ? DISGUISE_TYPES[candidate.disguise]
        : (CONTENT_TYPES[ext] ?? 'application/octet-stream');
      return fileResource(absolute, info.size, info.mtime, contentType);
    }
    return undefined;
  }

  async function sendResource(
    req: IncomingMessage,
    res: ServerResponse,
    resource: Resource,
    faults: CdnFaults,
    state: TokenState | undefined,
    log: CdnRequestLog,
  ): Promise<void> {
    const headers: Record<string, string> = {
      'content-type': resource.contentType,
      etag: resource.etag,
      'last-modified': resource.lastModified.toUTCString(),
    };
    if (!faults.ignoreRange) headers['accept-ranges'] = 'bytes';
    if (isNotModified(req, resource)) {
      log.status = 304;
      res.writeHead(304, headers);
      res.end(() => (log.completed = true));
      return;
    }
    const plan: RangePlan = faults.ignoreRange ? { kind: 'full' } : planRange(req, resource);
    if (faults.ignoreRange && header(req, 'range') !== undefined) log.fault = 'range-ignored';
    if (plan.kind === 'unsatisfiable') {
      log.status = 416;
      res.writeHead(416, { ...headers, 'content-range': `bytes */${resource.size}`, 'content-length': '0' });
      res.end(() => (log.completed = true));
      return;
    }
    const start = plan.kind === 'partial' ? plan.start : 0;
    const end = plan.kind === 'partial' ? plan.end + 1 : resource.size;
    if (plan.kind === 'partial') headers['content-range'] = `bytes ${plan.start}-${plan.end}/${resource.size}`;
    headers['content-length'] = String(end - start);
    log.status = plan.kind === 'partial' ? 206 : 200;
    res.writeHead(log.status, headers);
    if (req.method === 'HEAD') {
      res.end(() => (log.completed = true));
      return;
    }
    let dropAfter: number | undefined;
    if (state !== undefined && faults.dropAfterBytes !== undefined && state.dropsDone < (faults.dropTimes ?? 1)) {
      state.dropsDone += 1;
      dropAfter = faults.dropAfterBytes;
    }
    const outcome = await writeBody(res, resource.read(start, end), { dropAfter, bytesPerSecond: faults.bytesPerSecond }, (n) => {
      log.bytesSent += n;
    });
    if (outcome === 'dropped') log.fault = 'dropped';
    if (outcome === 'complete') res.end(() => (log.completed = true));
  }

  server.listen(options.port ?? 0, host);
  await once(server, 'listening');
  port = (server.address() as AddressInfo).port;
  const origin = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

  return {
    origin,
    host,
    port,
    requests,
    issue(path: string, faults: CdnFaults = {}): string {
      validateFaults(faults);
      const relativePath = normalizeIssuedPath(path);
      const token = randomBytes(12).toString('base64url');
      tokens.set(token, { faults: { ...faults }, issuedAt: now(), uses: 0, failuresServed: 0, dropsDone: 0 });
      const served = faults.playlistPathSuffix === '.txt' ? relativePath.replace(/\.m3u8$/i, '.txt') : relativePath;
      return `${origin}/t/${token}/${encodePath(served)}`;
    },
    url(path: string): string {
      return `${origin}/${encodePath(normalizeIssuedPath(path))}`;
    },
    usesOf(tokenOrUrl: string): number {
      const token = /\/t\/([A-Za-z0-9_-]+)\//.exec(tokenOrUrl)?.[1] ?? tokenOrUrl;
      return tokens.get(token)?.uses ?? 0;
    },
    openSockets: () => sockets.size,
    connections: () => accepted,
    openSocketsAtMost(count: number, timeoutMs: number): Promise<void> {
      return new Promise((resolveAtMost, reject) => {
        const check = () => {
          if (sockets.size > count) return;
          socketWaiters.delete(check);
          clearTimeout(timer);
          resolveAtMost();
        };
        const timer = setTimeout(() => {
          socketWaiters.delete(check);
          reject(new Error(`fake CDN: expected at most ${count} open sockets within ${timeoutMs} ms, ${sockets.size} still open`));
        }, timeoutMs);
        socketWaiters.add(check);
        check();
      });
    },
    async close(): Promise<void> {
      live?.close();
      const closed = once(server, 'close');
      server.close();
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}

/**
 * Bytes `[start, end)` of every `/big/<bytes>.bin` file: the files differ only in length, so a
 * range of any of them can be checked against this without a reference copy. Each aligned 4-byte
 * word holds a distinct value, so a shifted or repeated range never matches.
 *
 * @example
 * ```ts
 * bigFileBytes(0, 8).toString('hex'); // '0000000086e7379e'
 * bigFileBytes(5, 6).equals(bigFileBytes(0, 8).subarray(5, 6)); // true
 * ```
 */
export function bigFileBytes(start: number, end: number): Buffer {
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start) {
    throw new TypeError(`bigFileBytes: expected integers 0 <= start <= end, received start=${start} end=${end}`);
  }
  const firstWord = Math.floor(start / 4);
  const words = Math.ceil(end / 4) - firstWord;
  const array = new Uint32Array(words);
  for (let i = 0; i < words; i++) {
    const k = firstWord + i;
    const mixed = Math.imul(k, 0x9e3779b1) >>> 0;
    array[i] = (mixed ^ (mixed >>> 16)) >>> 0;
  }
  const buffer = Buffer.from(array.buffer);
  // The pattern is defined little-endian whatever the host.
  if (endianness() === 'BE') buffer.swap32();
  const offset = start - firstWord * 4;
  return buffer.subarray(offset, offset + (end - start));
}

/**
 * SHA-256 (hex) of bytes `[start, end)` of the big files, computed in chunks so that gigabytes
 * need no memory: compare it with the hash of what a client received.
 *
 * @example
 * ```ts
 * hashBigFile(0, 1024 ** 3) === createHash('sha256').update(received).digest('hex');
 * ```
 */
export function hashBigFile(start: number, end: number): string {
  const hash = createHash('sha256');
  for (let at = start; at < end; at += 1024 * 1024) hash.update(bigFileBytes(at, Math.min(end, at + 1024 * 1024)));
  return hash.digest('hex');
}

/**
 * The most recently used aligned chunks of the big files' byte pattern (shared by all sizes). Many
 * clients of one big file read the same offsets at about the same time: generating each chunk
 * once keeps a load test's CPU for the proxy instead of the fake CDN.
 */
class BigChunkCache {
  readonly #chunks = new Map<number, Buffer>();
  readonly #limit = BIG_CHUNK_CACHE_BYTES / CHUNK;

  chunk(index: number): Buffer {
    let chunk = this.#chunks.get(index);
    if (chunk === undefined) {
      chunk = bigFileBytes(index * CHUNK, (index + 1) * CHUNK);
      if (this.#chunks.size >= this.#limit) this.#chunks.delete(this.#chunks.keys().next().value!);
    } else {
      this.#chunks.delete(index);
    }
    this.#chunks.set(index, chunk);
    return chunk;
  }
}

function bigFileResource(size: number, cache: BigChunkCache): Resource {
  return {
    size,
    etag: `"big-${size}"`,
    lastModified: BIG_FILE_LAST_MODIFIED,
    contentType: CONTENT_TYPES['.bin']!,
    read: async function* (start, end) {
      for (let at = start; at < end; ) {
        const index = Math.floor(at / CHUNK);
        const next = Math.min(end, (index + 1) * CHUNK);
        yield cache.chunk(index).subarray(at - index * CHUNK, next - index * CHUNK);
        at = next;
      }
    },
  };
}

function fileResource(path: string, size: number, mtime: Date, contentType: string): Resource {
  return {
    size,
    etag: `"${size.toString(16)}-${Math.floor(mtime.getTime()).toString(16)}"`,
    lastModified: mtime,
    contentType,
    read: (start, end) =>
      end > start ? createReadStream(path, { start, end: end - 1, highWaterMark: CHUNK }) : emptyBody(),
  };
}

function playlistResource(text: string, faults: CdnFaults, contentType: string, mtime: Date): Resource {
  const rewritten = disguisePlaylist(text, faults);
  const body = faults.bom ? Buffer.concat([UTF8_BOM, Buffer.from(rewritten)]) : Buffer.from(rewritten);
  return {
    size: body.length,
    etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`,
    lastModified: mtime,
    contentType,
    read: async function* (start, end) {
      if (end > start) yield body.subarray(start, end);
    },
  };
}

/**
 * `pages/<fixture>.html`: a web page that plays a fixture in a `<video>` element, the way a video
 * site embeds it, for extractors such as yt-dlp. The source is relative (`../hls-ts/master.m3u8`),
 * so a page under a token hands its faults on to the media.
 */
function videoPageResource(name: string): Resource | undefined {
  const fixture = mediaFixtures.find((candidate) => candidate.name === name);
  if (fixture === undefined) return undefined;
  const type = fixture.kind === 'hls' ? 'application/x-mpegURL' : 'video/mp4';
  const html = `<!DOCTYPE html>\n<html lang="en">\n<head><meta charset="utf-8"><title>${fixture.name}</title></head>\n<body>\n<h1>${fixture.name}</h1>\n<video controls width="320" height="180">\n  <source src="../${fixture.path}" type="${type}">\n</video>\n</body>\n</html>\n`;
  const body = Buffer.from(html);
  return {
    size: body.length,
    etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`,
    lastModified: PAGE_LAST_MODIFIED,
    contentType: 'text/html; charset=utf-8',
    read: async function* (start, end) {
      if (end > start) yield body.subarray(start, end);
    },
  };
}

async function* emptyBody(): AsyncIterable<Buffer> {}

/**
 * Renames playlist URIs as a misbehaving CDN would: `.m3u8` → `.txt` (every playlist URI, in URI
 * lines and in `URI="…"` attributes) and segment URI lines to the disguise extension. Keys and
 * init sections keep their names, as they do at the CDNs that disguise segments.
 */
function disguisePlaylist(text: string, faults: CdnFaults): string {
  if (faults.playlistPathSuffix === undefined && faults.disguiseSegments === undefined) return text;
  const toTxt = (uri: string) => (faults.playlistPathSuffix === '.txt' ? uri.replace(/\.m3u8(?=$|[?#])/i, '.txt') : uri);
  return text
    .split('\n')
    .map((line) => {
      const body = line.endsWith('\r') ? line.slice(0, -1) : line;
      const eol = line.slice(body.length);
      if (body.startsWith('#')) return body.replace(/URI="([^"]*)"/g, (_, uri: string) => `URI="${toTxt(uri)}"`) + eol;
      if (body.trim() === '') return line;
      if (/\.m3u8(?=$|[?#])/i.test(body)) return toTxt(body) + eol;
      return (faults.disguiseSegments === undefined ? body : disguiseUri(body, faults.disguiseSegments)) + eol;
    })
    .join('\n');
}

function disguiseUri(uri: string, disguise: NonNullable<CdnFaults['disguiseSegments']>): string {
  const [path = '', ...rest] = uri.split(/(?=[?#])/);
  const withoutExt = path.replace(/\.[A-Za-z0-9]+$/, '');
  return (disguise === 'none' ? withoutExt : `${withoutExt}.${disguise}`) + rest.join('');
}

interface Candidate {
  readonly file: string;
  readonly servedAs?: '.txt';
  readonly disguise?: NonNullable<CdnFaults['disguiseSegments']>;
}

/** Real files that may stand behind a requested name, most literal first. */
function candidatePaths(path: string, faults: CdnFaults): Candidate[] {
  const candidates: Candidate[] = [{ file: path }];
  if (faults.playlistPathSuffix === '.txt' && /\.txt$/i.test(path)) {
    candidates.push({ file: path.replace(/\.txt$/i, '.m3u8'), servedAs: '.txt' });
  }
  const disguise = faults.disguiseSegments;
  if (disguise !== undefined) {
    const stem = disguise === 'none'
      ? (/\.[A-Za-z0-9]+$/.test(path.split('/').pop() ?? '') ? undefined : path)
      : path.toLowerCase().endsWith(`.${disguise}`) ? path.slice(0, -(disguise.length + 1)) : undefined;
    if (stem !== undefined) for (const ext of SEGMENT_EXTENSIONS) candidates.push({ file: stem + ext, disguise });
  }
  return candidates;
}

/** Single byte ranges only: a multi-range or malformed header is ignored (200), as RFC 9110 allows. */
function planRange(req: IncomingMessage, resource: Resource): RangePlan {
  const range = header(req, 'range');
  if (range === undefined) return { kind: 'full' };
  const ifRange = header(req, 'if-range');
  if (ifRange !== undefined && !ifRangeMatches(ifRange, resource)) return { kind: 'full' };
  const match = /^bytes=[ \t]*(\d*)-(\d*)[ \t]*$/i.exec(range);
  if (!match) return { kind: 'full' };
  const [, first = '', last = ''] = match;
  const size = resource.size;
  if (first === '' && last === '') return { kind: 'full' };
  if (first === '') {
    const suffix = Number(last);
    if (suffix === 0 || size === 0) return { kind: 'unsatisfiable' };
    return { kind: 'partial', start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  if (last !== '' && Number(last) < start) return { kind: 'full' };
  if (start >= size) return { kind: 'unsatisfiable' };
  return { kind: 'partial', start, end: last === '' ? size - 1 : Math.min(Number(last), size - 1) };
}

/** RFC 9110 13.1.5: a strong entity tag compares strongly; a date must equal Last-Modified. */
function ifRangeMatches(value: string, resource: Resource): boolean {
  if (value.startsWith('W/')) return false;
  if (value.startsWith('"')) return value === resource.etag;
  const date = Date.parse(value);
  return !Number.isNaN(date) && Math.floor(date / 1000) === Math.floor(resource.lastModified.getTime() / 1000);
}

function isNotModified(req: IncomingMessage, resource: Resource): boolean {
  const ifNoneMatch = header(req, 'if-none-match');
  if (ifNoneMatch !== undefined) {
    return ifNoneMatch.trim() === '*' || ifNoneMatch.split(',').some((tag) => tag.trim().replace(/^W\//, '') === resource.etag);
  }
  const ifModifiedSince = header(req, 'if-modified-since');
  if (ifModifiedSince === undefined) return false;
  const date = Date.parse(ifModifiedSince);
  return !Number.isNaN(date) && Math.floor(resource.lastModified.getTime() / 1000) <= Math.floor(date / 1000);
}

/**
 * Streams chunks with backpressure, optionally throttled, optionally cutting the connection after
 * `dropAfter` bytes. Stops (and releases the source) as soon as the client goes away.
 */
async function writeBody(
  res: ServerResponse,
  chunks: AsyncIterable<Buffer>,
  limits: { readonly dropAfter: number | undefined; readonly bytesPerSecond: number | undefined },
  onSent: (bytes: number) => void,
): Promise<'complete' | 'dropped' | 'aborted'> {
  let sent = 0;
  const startedAt = performance.now();
  const closed = whenClosed(res);
  const pieceSize = limits.bytesPerSecond === undefined ? Infinity : Math.max(1, Math.floor(limits.bytesPerSecond / 20));
  for await (const chunk of chunks) {
    for (let offset = 0; offset < chunk.length; offset += pieceSize) {
      if (res.destroyed) return 'aborted';
      let piece = chunk.subarray(offset, Math.min(chunk.length, offset + pieceSize));
      const dropping = limits.dropAfter !== undefined && sent + piece.length >= limits.dropAfter;
      if (dropping) piece = piece.subarray(0, limits.dropAfter! - sent);
      if (limits.bytesPerSecond !== undefined) {
        const due = startedAt + (sent / limits.bytesPerSecond) * 1000;
        const wait = due - performance.now();
        if (wait > 0 && (await Promise.race([sleep(wait), closed])) === 'closed') return 'aborted';
      }
      if (piece.length > 0) {
        // Waiting for the write callback means the bytes reached the kernel before a drop.
        const flushed = new Promise<void>((resolveWrite) => res.write(piece, () => resolveWrite()));
        onSent(piece.length);
        sent += piece.length;
        if (dropping || res.writableNeedDrain) {
          const progress = dropping ? flushed : new Promise<void>((resolveDrain) => res.once('drain', resolveDrain));
          if ((await Promise.race([progress, closed])) === 'closed') return 'aborted';
        }
      }
      if (dropping) {
        res.socket?.destroy();
        return 'dropped';
      }
    }
  }
  return 'complete';
}

/** Resolves when the response closes, whichever way; never rejects (unlike `events.once`). */
function whenClosed(res: ServerResponse): Promise<'closed'> {
  if (res.closed) return Promise.resolve('closed');
  return new Promise((resolveClosed) => res.once('close', () => resolveClosed('closed')));
}

function validateFaults(faults: CdnFaults): void {
  const counts: (keyof CdnFaults)[] = ['expireAfterUses', 'expireAfterMs', 'dropAfterBytes', 'dropTimes', 'delayHeadersMs'];
  for (const name of counts) {
    const value = faults[name];
    if (value !== undefined && (typeof value !== 'number' || !Number.isInteger(value) || value < 0)) {
      throw new TypeError(`FakeCdn.issue: faults.${name} must be a non-negative integer, received ${String(value)}`);
    }
  }
  if (faults.bytesPerSecond !== undefined && !(faults.bytesPerSecond > 0)) {
    throw new TypeError(`FakeCdn.issue: faults.bytesPerSecond must be positive, received ${String(faults.bytesPerSecond)}`);
  }
  if (faults.disguiseSegments !== undefined && !(faults.disguiseSegments in DISGUISE_TYPES)) {
    throw new TypeError(`FakeCdn.issue: faults.disguiseSegments must be jpg, png, html or none, received ${String(faults.disguiseSegments)}`);
  }
  if (faults.playlistPathSuffix !== undefined && faults.playlistPathSuffix !== '.txt') {
    throw new TypeError(`FakeCdn.issue: faults.playlistPathSuffix must be '.txt', received ${String(faults.playlistPathSuffix)}`);
  }
  if (faults.headStatus !== undefined && faults.headStatus !== 405 && faults.headStatus !== 501) {
    throw new TypeError(`FakeCdn.issue: faults.headStatus must be 405 or 501, received ${String(faults.headStatus)}`);
  }
  const failFirst = faults.failFirst;
  if (failFirst !== undefined && (!Number.isInteger(failFirst.count) || failFirst.count < 0 || !Number.isInteger(failFirst.status) || failFirst.status < 400 || failFirst.status > 599)) {
    throw new TypeError(`FakeCdn.issue: faults.failFirst must be { count >= 0, status 400..599 }, received ${JSON.stringify(failFirst)}`);
  }
}

function normalizeIssuedPath(path: string): string {
  const relativePath = path.replace(/^\/+/, '');
  if (relativePath === '' || relativePath.split('/').some((part) => part === '..' || part === '.')) {
    throw new TypeError(`FakeCdn: expected a path inside the media folder, received ${JSON.stringify(path.slice(0, 200))}`);
  }
  return relativePath;
}

function encodePath(path: string): string {
  return path.split('/').map(encodeURIComponent).join('/');
}

function safeDecode(path: string): string | undefined {
  try {
    return decodeURIComponent(path);
  } catch {
    return undefined;
  }
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

function hostnameOf(hostHeader: string | undefined): string {
  if (hostHeader === undefined) return '';
  const bracketed = /^\[([^\]]+)\]/.exec(hostHeader);
  return (bracketed?.[1] ?? hostHeader.replace(/:\d+$/, '')).toLowerCase();
}

function normalizeAddress(address: string | undefined): string {
  return (address ?? '').replace(/^::ffff:/i, '');
}
