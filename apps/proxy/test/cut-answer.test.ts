import { connect } from 'node:net';
import type { ServerResponse } from 'node:http';
import { afterEach, describe, expect, test } from 'vitest';
import { cutAnswer } from '../src/request-context';
import { startServer, type TestServer } from './support/servers';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
});

/** Everything the server sends on one GET, until it closes the connection. */
function received(origin: string): Promise<string> {
  const { hostname, port } = new URL(origin);
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const socket = connect({ host: hostname, port: Number(port) }, () => socket.write(`GET / HTTP/1.1\r\nHost: ${hostname}\r\n\r\n`));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
  });
}

describe('cutAnswer', () => {
  // Node corks the socket for the chunked writes of one tick: a destroy in that tick dropped the
  // status line too, and the client saw a connection closed without any answer (found by the fuzz).
  test.each([
    ['in the tick of the first writes', (res: ServerResponse) => cutAnswer(res)],
    ['a tick later', (res: ServerResponse) => setImmediate(() => cutAnswer(res))],
  ])('a fault %s: the client gets the status line and the bytes written, then the close, never a complete body', async (_when, cut) => {
    server = await startServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/vnd.apple.mpegurl' });
      res.write('#EXTM3U\n');
      res.write('#EXTINF:4,\nseg0.ts\n');
      cut(res);
    });
    const raw = await received(server.origin);
    expect(raw).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(raw).toContain('#EXTM3U\n');
    expect(raw).not.toMatch(/\r\n0\r\n\r\n$/); // no last chunk: the client sees a cut, not an end
  });
});
