// What the bench's minimal servers (bare-pipe.ts, tcp-relay.ts, byte-paths.ts) share: the media
// headers they pass on, and the line that says where they listen.
import type { IncomingHttpHeaders } from 'node:http';
import type { Server } from 'node:net';

/** The upstream response headers a media client needs, passed to it as the proxy passes them. */
export const PASSED_HEADERS = ['content-type', 'content-length', 'content-range', 'accept-ranges', 'etag', 'last-modified'];

/** The `PASSED_HEADERS` of an upstream response that has them as single values. */
export function passedHeaders(upstream: IncomingHttpHeaders): Record<string, string> {
  const passed: Record<string, string> = {};
  for (const name of PASSED_HEADERS) {
    const value = upstream[name];
    if (typeof value === 'string') passed[name] = value;
  }
  return passed;
}

/** Listens on a free loopback port and prints `{"url": "http://127.0.0.1:<port>"}` (what `jsonReadyLine` reads). */
export function listenAndAnnounce(server: Server): void {
  server.listen(0, '127.0.0.1', () => {
    process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${(server.address() as { port: number }).port}` })}\n`);
  });
}
