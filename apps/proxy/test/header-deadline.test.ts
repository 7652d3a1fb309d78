import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import pino from 'pino';
import { answerClientError } from '../src/client-errors';
import { guardHeaderDeadline } from '../src/header-deadline';

// The header deadline counts the time the event loop ran: a client that trickles its head runs
// out of it, a request that waited in the socket while the loop was blocked does not.
let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  if (server?.listening) await new Promise((resolve) => server!.close(resolve));
});

async function guardedServer(timeoutMs: number): Promise<number> {
  server = createServer({ headersTimeout: 0, requestTimeout: 0 }, (_req, res) => res.end('ok'));
  // Wired as server.ts wires it: a late head is answered like the parser's timeout.
  const answerClient = answerClientError(pino({ level: 'silent' }));
  const timedOut = Object.assign(new Error('late'), { code: 'ERR_HTTP_REQUEST_TIMEOUT' });
  guardHeaderDeadline(server, { timeoutMs, keepAliveMs: timeoutMs, tickMs: 50, expire: (socket) => answerClient(timedOut, socket) });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

/** Everything the server sent until it closed the connection. */
function readAll(socket: ReturnType<typeof connect>): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    socket.setEncoding('latin1').on('data', (chunk: string) => (text += chunk));
    socket.on('close', () => resolve(text));
    socket.on('error', () => resolve(text));
  });
}

describe('guardHeaderDeadline', () => {
  test('a connection that sends nothing gets a JSON 408 and is closed', async () => {
    const socket = connect(await guardedServer(300), '127.0.0.1');
    const text = await readAll(socket);
    expect(text.split('\r\n')[0]).toBe('HTTP/1.1 408 Request Timeout');
    expect(JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4))).toEqual({ error: { code: 'STRM_REQUEST_TIMEOUT', message: 'the request did not arrive in time' } });
  });

  test('a head trickled one byte at a time gets the 408 too', async () => {
    const socket = connect(await guardedServer(300), '127.0.0.1');
    const head = 'GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ' + 'a'.repeat(200);
    let sent = 0;
    const trickle = setInterval(() => socket.writable && sent < head.length && socket.write(head[sent++]!), 20);
    const text = await readAll(socket);
    clearInterval(trickle);
    expect(text.split('\r\n')[0]).toBe('HTTP/1.1 408 Request Timeout');
  });

  test('a request that arrived while the event loop was blocked past the deadline is answered', async () => {
    const port = await guardedServer(300);
    const socket = connect(port, '127.0.0.1');
    await once(socket, 'connect');
    await new Promise((resolve) => setImmediate(resolve)); // the server accepted it
    socket.write('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    const blockedUntil = Date.now() + 1000; // the proxy starved for three deadlines
    while (Date.now() < blockedUntil);
    const text = await readAll(socket);
    expect(text.split('\r\n')[0]).toBe('HTTP/1.1 200 OK');
  });

  test('a kept-alive connection is not cut between requests before its keep-alive time', async () => {
    const socket = connect(await guardedServer(300), '127.0.0.1');
    const answers: string[] = [];
    socket.setEncoding('latin1').on('data', (chunk: string) => answers.push(chunk));
    socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await once(socket, 'data');
    await new Promise((resolve) => setTimeout(resolve, 400)); // idle, shorter than keep-alive + head time (600 ms)
    socket.write('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    await once(socket, 'close');
    expect(answers.join('').match(/HTTP\/1\.1 200 OK/g)).toHaveLength(2);
  });
});
