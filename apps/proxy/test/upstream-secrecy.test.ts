import { createServer, type Server } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { fetchAll, startResolver, startServer, startTestProxy, type TestProxy, type TestResolver, type TestServer } from './support/servers';

// Nothing of the upstream in client messages (docs/contract.md, "Endpoints"): for every way an
// upstream can fail, the JSON error a client gets names no upstream host, port, path or body
// text; the log line keeps the detail (queries cut off).
const SECRET = 'SeCrEt-TOKEN-4711';
let origin: TestServer;
let silent: Server;
let silentPort: number;
const silentSockets = new Set<Socket>();
let closedPort: number;
let resolver: TestResolver;
let proxy: TestProxy;

/** The upstream paths of the sweep: each one fails in its own way. */
const FAILURES: Record<string, (send: (status: number, headers: Record<string, string>, body?: string) => void) => void> = {
  'not-a-playlist': (send) => send(200, { 'content-type': 'application/vnd.apple.mpegurl' }, `https://secret-host.example/secret-path/x.ts?token=${SECRET}\n`),
  'binary-playlist': (send) => send(200, { 'content-type': 'application/vnd.apple.mpegurl' }, `#EXTM3U\nsecret-path/${SECRET}\u0001.ts\n`),
  'cut-first-line': (send) => send(200, { 'content-type': 'application/vnd.apple.mpegurl' }, '#EXT'),
  'not-a-manifest': (send) => send(200, { 'content-type': 'application/dash+xml' }, `secret-path ${SECRET} <html></html>`),
  'malformed-manifest': (send) => send(200, { 'content-type': 'application/dash+xml' }, `<MPD xmlns="urn:mpeg:dash:schema:mpd:2011"><BaseURL x="https://secret-host.example/secret-path?token=${SECRET}></MPD>`),
  'manifest-html-root': (send) => send(200, { 'content-type': 'application/dash+xml' }, `<html xmlns="https://secret-host.example/secret-path/${SECRET}"></html>`),
  gone: (send) => send(410, { 'content-type': 'text/plain' }, `gone: https://secret-host.example/secret-path?token=${SECRET}`),
  overloaded: (send) => send(503, { 'content-type': 'text/plain' }, `busy secret-path ${SECRET}`),
  'redirect-ftp': (send) => send(302, { location: `ftp://secret-host.example/secret-path/${SECRET}` }),
  'redirect-invalid': (send) => send(302, { location: `http://[secret-host/secret-path/${SECRET}` }),
  'redirect-loop': (send) => send(302, { location: `/secret-path/redirect-loop?token=${SECRET}` }),
  'bad-range': (send) => send(206, { 'content-type': 'video/mp4', 'content-range': `bytes secret-path/${SECRET}`, 'content-length': '10' }, '0123456789'),
};

beforeAll(async () => {
  origin = await startServer((req, res) => {
    const name = /^\/secret-path\/([a-z-]+)/.exec(new URL(req.url ?? '/', 'http://cdn').pathname)?.[1] ?? '';
    const fail = FAILURES[name];
    if (fail === undefined) {
      res.writeHead(404);
      res.end();
      return;
    }
    fail((status, headers, body) => {
      res.writeHead(status, { ...headers, ...(body !== undefined ? { 'content-length': String(Buffer.byteLength(body)) } : {}) });
      res.end(body);
    });
  });
  // Accepts connections and never answers: the upstream timeout.
  silent = createServer((socket) => {
    silentSockets.add(socket);
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  silentPort = (silent.address() as AddressInfo).port;
  // A port nobody listens on any more: connection refused.
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  closedPort = (closed.address() as AddressInfo).port;
  await new Promise<void>((resolve) => closed.close(() => resolve()));

  const at = (url: () => string) => ({ url });
  resolver = await startResolver([
    ...Object.keys(FAILURES).map((name) => ({ slug: name, ...at(() => `${origin.origin}/secret-path/${name}?token=${SECRET}`) })),
    { slug: 'refused-connection', ...at(() => `http://127.0.0.1:${closedPort}/secret-path/x.m3u8?token=${SECRET}`) },
    { slug: 'timeout', ...at(() => `http://127.0.0.1:${silentPort}/secret-path/x.m3u8?token=${SECRET}`) },
    // Loopback, but not the allowlisted 127.0.0.1: the address guard refuses it before connecting.
    { slug: 'private-address', ...at(() => `http://127.0.0.2:${origin.port}/secret-path/x.m3u8?token=${SECRET}`) },
  ]);
  proxy = await startTestProxy(resolver, { STRM_PROXY_UPSTREAM_TIMEOUT_MS: '400' });
});

afterAll(async () => {
  await proxy?.close(0);
  await origin?.close();
  for (const socket of silentSockets) socket.destroy();
  await new Promise<void>((resolve) => silent?.close(() => resolve()));
  await resolver?.close();
});

/** What a client must never read: the upstream's hosts, ports, path and body text. */
const leaks = () => ['127.0.0.1', '127.0.0.2', 'secret-host', 'secret-path', SECRET, `${origin.port}`, `${silentPort}`, `${closedPort}`, '<html', 'gone:', 'busy'];

describe('the client is told what failed, never where', () => {
  test.each<[string, number, string]>([
    ['not-a-playlist', 502, 'STRM_BAD_PLAYLIST'],
    ['binary-playlist', 502, 'STRM_BAD_PLAYLIST'],
    ['cut-first-line', 502, 'STRM_BAD_PLAYLIST'],
    ['not-a-manifest', 502, 'STRM_BAD_MANIFEST'],
    ['malformed-manifest', 502, 'STRM_BAD_MANIFEST'],
    ['manifest-html-root', 502, 'STRM_BAD_MANIFEST'],
    ['gone', 410, 'STRM_UPSTREAM_FAILED'],
    ['overloaded', 503, 'STRM_UPSTREAM_FAILED'],
    ['redirect-ftp', 502, 'STRM_UPSTREAM_REFUSED'],
    ['redirect-invalid', 502, 'STRM_UPSTREAM_FAILED'],
    ['redirect-loop', 502, 'STRM_UPSTREAM_FAILED'],
    ['bad-range', 502, 'STRM_UPSTREAM_BAD_RANGE'],
    ['refused-connection', 502, 'STRM_UPSTREAM_FAILED'],
    ['timeout', 504, 'STRM_UPSTREAM_TIMEOUT'],
    ['private-address', 502, 'STRM_UPSTREAM_REFUSED'],
  ])('%s → %i %s', async (slug, status, code) => {
    const response = await fetchAll(proxy.entryUrl(slug), slug === 'bad-range' ? { headers: { range: 'bytes=100-199' } } : {});
    expect(response.status).toBe(status);
    expect(response.headers['content-type']).toBe('application/json; charset=utf-8');
    const body = response.body.toString('utf8');
    expect(response.json().error.code).toBe(code);
    for (const fragment of leaks()) expect(body, `the answer names "${fragment}"`).not.toContain(fragment);
  });
});

describe('the log keeps the detail', () => {
  test.each<[string, RegExp]>([
    ['refused-connection', /127\.0\.0\.1:\d+ could not be reached \(ECONNREFUSED\)/],
    ['private-address', /the upstream host 127\.0\.0\.2 resolves to a loopback address/],
    ['not-a-playlist', /received "https:\/\/secret-host\.example\/secret-path\//],
    ['bad-range', /secret-path/],
  ])('%s: the cause names what the client is not told, upstream queries redacted', async (slug, cause) => {
    const line = await proxy.waitForLog((entry) => entry.msg === 'request' && entry.slug === slug && typeof entry.cause === 'string');
    expect(line.cause).toMatch(cause);
    expect(JSON.stringify(line)).not.toContain(`token=${SECRET}`);
  });
});
