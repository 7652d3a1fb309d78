import { createServer, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What a tampering front did to one response. */
export interface TamperedRequest {
  readonly method: string;
  readonly path: string;
  status: number;
  corrupted: boolean;
}

/**
 * A hop in front of a server that changes its answers: broken in front of the proxy, so that each
 * player suite shows it notices a broken proxy; CORS-adding in front of the fake CDN, so that a
 * browser can play from the CDN directly for comparison.
 */
export interface TamperingFront {
  readonly origin: string;
  /** `url` with its origin replaced by the front's. */
  via(url: string): string;
  readonly requests: readonly TamperedRequest[];
  close(): Promise<void>;
}

/**
 * Starts a forwarding hop on 127.0.0.1 (port 0) in front of `target`: `dropCors` removes every
 * `Access-Control-*` header (a browser must refuse the answers), `corrupt(path, contentType)`
 * picks responses whose body bytes get inverted from byte 400 to byte 4400 (past the TS or MP4
 * headers, into the pictures), `addCors` answers preflights itself and adds
 * `Access-Control-Allow-Origin: *` (as the proxy does), `delayMs(path)` holds a request that long
 * before forwarding it (a slow hop), `refuse(path)` answers 404 instead of forwarding. Requests keep their `Host`, so a proxy
 * that derives absolute playlist URIs from it sends the player back through the front.
 */
export async function startTamperingFront(
  target: string,
  options: { dropCors?: boolean; addCors?: boolean; corrupt?: (path: string, contentType: string) => boolean; delayMs?: (path: string) => number; refuse?: (path: string) => boolean },
): Promise<TamperingFront> {
  const requests: TamperedRequest[] = [];
  const upstream = new URL(target);
  const server = createServer((clientRequest, clientResponse) => {
    const entry: TamperedRequest = { method: clientRequest.method ?? 'GET', path: clientRequest.url ?? '/', status: 0, corrupted: false };
    requests.push(entry);
    if (options.addCors && entry.method === 'OPTIONS') {
      entry.status = 204;
      clientResponse.writeHead(204, { 'access-control-allow-origin': '*', 'access-control-allow-methods': 'GET, HEAD, OPTIONS', 'access-control-allow-headers': 'Range, If-Range' }).end();
      return;
    }
    if (options.refuse?.(entry.path)) {
      entry.status = 404;
      clientResponse.writeHead(404, { 'content-type': 'text/plain' }).end('refused by the front\n');
      return;
    }
    const delay = options.delayMs?.(entry.path) ?? 0;
    if (delay > 0) {
      // A slow hop: the request goes on after `delay` ms (a latency a live player must notice).
      clientRequest.pause();
      setTimeout(() => forward(), delay);
      return;
    }
    forward();
    function forward(): void {
      const forwarded = httpRequest(
        { host: upstream.hostname, port: upstream.port, method: entry.method, path: entry.path, headers: clientRequest.headers },
        (response) => {
          const headers: IncomingHttpHeaders = { ...response.headers };
          if (options.dropCors) for (const name of Object.keys(headers)) if (name.startsWith('access-control-')) delete headers[name];
          if (options.addCors) Object.assign(headers, { 'access-control-allow-origin': '*', 'access-control-expose-headers': 'Content-Length, Content-Range, Accept-Ranges' });
          entry.status = response.statusCode ?? 502;
          const corrupt = options.corrupt?.(entry.path, String(headers['content-type'] ?? '')) ?? false;
          entry.corrupted = corrupt;
          clientResponse.writeHead(entry.status, headers);
          if (!corrupt) {
            response.pipe(clientResponse);
            return;
          }
          let offset = 0;
          response.on('data', (chunk: Buffer) => {
            for (let i = 0; i < chunk.length; i += 1) if (offset + i >= 400 && offset + i < 4400) chunk[i] = chunk[i]! ^ 0xff;
            offset += chunk.length;
            clientResponse.write(chunk);
          });
          response.on('end', () => clientResponse.end());
        },
      );
      forwarded.on('error', () => clientResponse.destroy());
      clientRequest.pipe(forwarded);
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    requests,
    via(url) {
      const moved = new URL(url);
      return `${origin}${moved.pathname}${moved.search}`;
    },
    close() {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
