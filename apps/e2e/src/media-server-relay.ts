import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { pipeline } from 'node:stream/promises';
import { request } from 'undici';

/**
 * One request the relay received, and what became of it.
 *
 * @example
 * ```ts
 * relay.requests.map((r) => `${r.method} ${r.path} ${r.status}`); // ['GET /Videos/1/stream?static=true 200']
 * ```
 */
export interface RelayRequestLog {
  readonly method: string;
  readonly path: string;
  readonly range: string | undefined;
  status: number;
}

/** A running relay. */
export interface StaticStreamRelay {
  /** `http://127.0.0.1:<port>` */
  readonly origin: string;
  /**
   * Registers a `.strm` item: its entry URL (as the file holds it), and returns the URL a player
   * opens on the media server, `<origin>/Videos/<id>/stream?static=true`.
   */
  add(entryUrl: string): string;
  readonly requests: readonly RelayRequestLog[];
  close(): Promise<void>;
}

/** The response headers copied from the fetched entry URL to the player; nothing else is. */
const COPIED_HEADERS = ['content-length', 'content-range', 'accept-ranges'] as const;

/**
 * Starts a relay that plays a `.strm` item the way Jellyfin 10.9–10.11 does for a client that
 * does not open the URL itself (`/Videos/{id}/stream?static=true`, its "static remote stream"):
 * the server GETs the entry URL with its own HTTP client (Host as written in the URL; the
 * client's `Range` is the only request header passed on), answers a non-2xx with 500, and copies
 * the status, `Content-Type` (`text/plain` when absent), `Content-Length`, `Content-Range`,
 * `Accept-Ranges` and the body to the player, with `Access-Control-Allow-Origin: *` as Jellyfin's
 * default CORS policy sends it. HEAD gets the same headers without a body. The
 * player then sees the body under the relay's URL, so a relative URI in a playlist resolves on
 * the relay, where only `/Videos/{id}/stream` exists (anything else is 404).
 *
 * @example
 * ```ts
 * const relay = await startStaticStreamRelay();
 * const url = relay.add('http://127.0.0.1:8080/strm/stream?slug=…&sig=…');
 * // ffmpeg -i <url> …
 * ```
 */
export async function startStaticStreamRelay(options: { host?: string } = {}): Promise<StaticStreamRelay> {
  const items = new Map<string, string>();
  const requests: RelayRequestLog[] = [];
  const sockets = new Set<Socket>();

  async function relay(req: IncomingMessage, res: ServerResponse, log: RelayRequestLog): Promise<void> {
    const match = /^\/Videos\/([^/?]+)\/stream(?:\?|$)/.exec(req.url ?? '');
    const entryUrl = match === null ? undefined : items.get(match[1]!);
    if (entryUrl === undefined || (req.method !== 'GET' && req.method !== 'HEAD')) {
      log.status = 404;
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    const range = req.headers.range;
    const controller = new AbortController();
    res.once('close', () => controller.abort());
    const upstream = await request(entryUrl, {
      method: 'GET',
      headers: { 'user-agent': 'Jellyfin-Server/10.10.7', ...(range ? { range } : {}) },
      signal: controller.signal,
    });
    if (upstream.statusCode < 200 || upstream.statusCode > 299) {
      await upstream.body.dump();
      log.status = 500;
      res.writeHead(500, { 'content-type': 'text/plain' }).end(`the remote stream answered ${upstream.statusCode}`);
      return;
    }
    // Jellyfin answers browsers of any origin by default (its CORS hosts default to `*`).
    const headers: Record<string, string> = { 'content-type': String(upstream.headers['content-type'] ?? 'text/plain'), 'access-control-allow-origin': '*' };
    for (const name of COPIED_HEADERS) {
      const value = upstream.headers[name];
      if (typeof value === 'string') headers[name] = value;
    }
    log.status = upstream.statusCode;
    res.writeHead(upstream.statusCode, headers);
    if (req.method === 'HEAD') {
      upstream.body.destroy();
      res.end();
      return;
    }
    await pipeline(upstream.body, res);
  }

  const server: Server = createServer((req, res) => {
    const log: RelayRequestLog = { method: req.method ?? '', path: req.url ?? '', range: req.headers.range, status: 0 };
    requests.push(log);
    relay(req, res, log).catch(() => {
      if (!res.headersSent) {
        log.status = 500;
        res.writeHead(500).end();
      } else res.destroy();
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  server.listen(0, options.host ?? '127.0.0.1');
  await new Promise<void>((resolve, reject) => server.once('listening', resolve).once('error', reject));
  const { port } = server.address() as AddressInfo;
  const origin = `http://${options.host ?? '127.0.0.1'}:${port}`;
  return {
    origin,
    add(entryUrl) {
      const id = String(items.size + 1).padStart(32, '0');
      items.set(id, entryUrl);
      return `${origin}/Videos/${id}/stream?static=true`;
    },
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
