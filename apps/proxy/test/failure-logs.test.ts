import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { fetchAll, mediaBytes, SECRET, serveBytes, startResolver, startServer, startTestProxy, type TestProxy, type TestResolver, type TestServer } from './support/servers';

// Every request that ends in 4xx/5xx logs one line that says which episode, which STRM_ code
// and why; each failure kind is produced for real here (closed ports, a 403 origin, an origin
// that never answers, an address the guard refuses) and its line is read back.
const BYTES = mediaBytes(600_000);
const UPSTREAM_TOKEN = 'cdn-token-7f3a9c';
let dropped = false;

let origin: TestServer;
let other: TestServer; // 127.0.0.2: not allowlisted
let mirror: TestServer; // where /moved.mp4 redirects
let resolver: TestResolver;
let proxy: TestProxy;
let closedPort: number;

beforeAll(async () => {
  origin = await startServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (path === '/forbidden.mp4') {
      res.writeHead(403);
      res.end();
      return;
    }
    if (path === '/silent.mp4') return; // never answers: the headers timeout strikes
    if (path === '/moved.mp4') {
      res.writeHead(302, { location: `${mirror.origin}/moved.mp4` });
      res.end();
      return;
    }
    if (path === '/drops-once.mp4' && !dropped && req.method === 'GET') {
      dropped = true;
      res.writeHead(200, { 'content-type': 'video/mp4', etag: '"v1"', 'content-length': String(BYTES.length) });
      res.write(BYTES.subarray(0, 100_000), () => res.destroy());
      return;
    }
    serveBytes(req, res, BYTES);
  });
  other = await startServer((req, res) => serveBytes(req, res, BYTES), '127.0.0.2');
  mirror = await startServer((req, res) => serveBytes(req, res, BYTES));
  const closed = await startServer(() => {});
  closedPort = closed.port;
  await closed.close();
  resolver = await startResolver([
    { slug: 'forbidden', url: () => `${origin.origin}/forbidden.mp4?token=${UPSTREAM_TOKEN}` },
    { slug: 'silent', url: () => `${origin.origin}/silent.mp4?token=${UPSTREAM_TOKEN}` },
    { slug: 'guarded', url: () => `${other.origin}/private.mp4?token=${UPSTREAM_TOKEN}` },
    { slug: 'gone', url: () => `http://127.0.0.1:${closedPort}/gone.mp4?token=${UPSTREAM_TOKEN}` },
    { slug: 'drops', url: () => `${origin.origin}/drops-once.mp4?token=${UPSTREAM_TOKEN}` },
    { slug: 'moved', url: () => `${origin.origin}/moved.mp4?token=${UPSTREAM_TOKEN}` },
  ]);
  proxy = await startTestProxy(resolver, { STRM_PROXY_UPSTREAM_TIMEOUT_MS: '300' });
});

afterAll(async () => {
  await proxy?.close(0);
  await Promise.all([origin?.close(), other?.close(), mirror?.close(), resolver?.close()]);
});

/** The request line of the one request made to `url`. */
async function requestLine(url: string, headers: Record<string, string> = {}) {
  const before = proxy.logs.length;
  const response = await fetchAll(url, { headers });
  const line = await proxy.waitForLog((entry) => entry.msg === 'request' && proxy.logs.indexOf(entry) >= before);
  return { response, line };
}

const episode = (slug: string) => ({ site: 'aniworld.to', slug, season: 1, episode: 1, language: 'German Dub' });

describe('failure log lines: episode, STRM_ code and cause', () => {
  test('resolver: the episode is unknown (404 from the resolver)', async () => {
    const { response, line } = await requestLine(proxy.entryUrl('nobody-knows'));
    expect(response.status).toBe(404);
    expect(line).toMatchObject({ ...episode('nobody-knows'), status: 404, code: 'STRM_EPISODE_NOT_FOUND', resolverCode: 'STRM_RESOLVER_NOT_FOUND', resolverStatus: 404 });
  });

  test('upstream: 403 before and after the refresh, with the host and the refresh reason', async () => {
    const { response, line } = await requestLine(proxy.entryUrl('forbidden'));
    expect(response.status).toBe(403);
    expect(line).toMatchObject({
      ...episode('forbidden'), status: 403, code: 'STRM_UPSTREAM_FAILED', upstreamStatus: 403, upstreamHost: `127.0.0.1:${origin.port}`,
      refreshes: 1, refreshedAfter: ['403'],
    });
  });

  test('upstream: the connection is refused', async () => {
    const { response, line } = await requestLine(proxy.entryUrl('gone'));
    expect(response.status).toBe(502);
    expect(line).toMatchObject({ ...episode('gone'), status: 502, code: 'STRM_UPSTREAM_FAILED', upstreamHost: `127.0.0.1:${closedPort}`, refreshedAfter: ['network'] });
    expect(String(line.cause)).toContain('ECONNREFUSED');
  });

  test('upstream: a timeout names its phase', async () => {
    const { response, line } = await requestLine(proxy.entryUrl('silent'));
    expect(response.status).toBe(504);
    expect(line).toMatchObject({ ...episode('silent'), status: 504, code: 'STRM_UPSTREAM_TIMEOUT', timeoutPhase: 'headers', upstreamHost: `127.0.0.1:${origin.port}`, refreshedAfter: ['timeout'] });
  });

  test('guard: a refused address names its class', async () => {
    const { response, line } = await requestLine(proxy.entryUrl('guarded'));
    expect(response.status).toBe(502);
    expect(line).toMatchObject({ ...episode('guarded'), status: 502, code: 'STRM_UPSTREAM_REFUSED', addressClass: 'loopback', upstreamHost: `127.0.0.2:${other.port}` });
  });

  test('auth: a wrong signature still names the episode it was for', async () => {
    const url = proxy.entryUrl('forbidden').replace(/sig=[0-9a-f]{4}/, 'sig=0000');
    const { response, line } = await requestLine(url);
    expect(response.status).toBe(401);
    expect(line).toMatchObject({ ...episode('forbidden'), status: 401, code: 'STRM_UNAUTHORIZED', cause: 'the signature does not match these parameters' });
  });

  test('a bad parameter: the cause names it', async () => {
    const { line } = await requestLine(proxy.entryUrl('forbidden', { s: 'one' }));
    expect(line).toMatchObject({ status: 400, code: 'STRM_BAD_PARAMETER' });
    expect(String(line.cause)).toContain('parameter s');
  });

  test('a resumed body is logged with its resumes', async () => {
    const { response, line } = await requestLine(proxy.entryUrl('drops'));
    expect(response.status).toBe(200);
    expect(response.body.equals(BYTES)).toBe(true);
    expect(line).toMatchObject({ ...episode('drops'), status: 200, resumes: 1 });
  });

  test('a redirected answer names the host that answered it', async () => {
    const { response, line } = await requestLine(proxy.entryUrl('moved'));
    expect(response.status).toBe(200);
    expect(response.body.equals(BYTES)).toBe(true);
    expect(line).toMatchObject({ ...episode('moved'), status: 200, upstreamStatus: 200, upstreamHost: `127.0.0.1:${mirror.port}` });
    // The order operators' tools read the fields in.
    expect(Object.keys(line)).toEqual([
      'level', 'time', 'service', 'route', 'method', 'path', 'site', 'slug', 'season', 'episode', 'language',
      'status', 'bytes', 'durationMs', 'ttfbMs', 'upstreamStatus', 'upstreamHost', 'msg',
    ]);
  });

  test('an unknown path is logged too', async () => {
    const { line } = await requestLine(`${proxy.url}/strm/nothing-here`);
    expect(line).toMatchObject({ route: 'other', status: 404, code: 'STRM_NOT_FOUND' });
  });

  test('no line holds the secret, a signature or an upstream query string', () => {
    const text = JSON.stringify(proxy.logs);
    expect(text).not.toContain(UPSTREAM_TOKEN);
    expect(text).not.toContain(SECRET);
    expect(text).not.toMatch(/sig=[0-9a-f]/);
  });
});

describe('start-up warnings', () => {
  test('a resolver that does not answer, and a secret shorter than 32 bytes; then an episode fails with the resolver\'s cause', async () => {
    const silent = await startTestProxy({ origin: `http://127.0.0.1:${closedPort}` });
    try {
      const warning = await silent.waitForLog((line) => String(line.msg).startsWith('the resolver does not answer'));
      expect(warning).toMatchObject({ level: 40, resolver: `http://127.0.0.1:${closedPort}`, cause: 'ECONNREFUSED' });
      const short = await silent.waitForLog((line) => String(line.msg).startsWith('STRM_PROXY_SECRET is'));
      expect(short).toMatchObject({ level: 40 });
      expect(String(short.msg)).toContain(`${Buffer.byteLength(SECRET)} bytes long; use 32 or more`);
      expect(silent.logs.filter((line) => line.level === 40)).toHaveLength(2);

      // And an episode asked of it: the resolver's failure, its code and the connection error.
      const response = await fetchAll(silent.entryUrl('frieren'));
      expect(response.status).toBe(502);
      const line = await silent.waitForLog((entry) => entry.msg === 'request');
      expect(line).toMatchObject({ ...episode('frieren'), status: 502, code: 'STRM_RESOLVER_FAILED', resolverCode: 'STRM_RESOLVER_UNAVAILABLE', message: 'the resolver failed (STRM_RESOLVER_UNAVAILABLE)' });
      expect(String(line.cause)).toMatch(/could not reach the resolver at http:\/\/127\.0\.0\.1:\d+\/resolve \(ECONNREFUSED\)/);
    } finally {
      await silent.close(0);
    }
  });

  test('a resolver that answers and a long secret: no warning', async () => {
    const quiet = await startTestProxy(resolver, { STRM_PROXY_SECRET: 'x'.repeat(32) });
    try {
      await quiet.waitForLog((line) => line.msg === 'the resolver answers');
      expect(quiet.logs.filter((line) => line.level === 40)).toEqual([]);
    } finally {
      await quiet.close(0);
    }
  });
});
