import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createHttpResolverSource, ResolverError, type EpisodeIdentity, type HttpResolverSource } from '../src/index';
import { defaultReply, startFakeResolver, type FakeResolver, type Reply } from './fake-resolver';

const frieren: EpisodeIdentity = { site: 'aniworld.to', slug: 'frieren', season: 1, episode: 3, language: 'German Dub' };

let fake: FakeResolver;
const sources: HttpResolverSource[] = [];
function source(options: Partial<Parameters<typeof createHttpResolverSource>[0]> = {}): HttpResolverSource {
  const created = createHttpResolverSource({ baseUrl: fake.origin, ...options });
  sources.push(created);
  return created;
}

beforeAll(async () => {
  fake = await startFakeResolver();
});
afterEach(async () => {
  fake.reply(defaultReply);
  await Promise.all(sources.splice(0).map((s) => s.close()));
});
afterAll(async () => {
  await fake.close();
});

/** Runs `promise` and returns its rejection, failing when it resolves. */
async function rejection(promise: Promise<unknown>): Promise<ResolverError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ResolverError);
  return error as ResolverError;
}

describe('createHttpResolverSource: the request', () => {
  it('GET /resolve?site=&slug=&s=&e=&lang= in the order of the contract, encoded', async () => {
    const at = fake.hits;
    await source().resolve({ ...frieren, slug: 'a~b*c (d)/é', language: 'English Sub' }, { refresh: false });
    const request = fake.requests[at]!;
    expect(request.pathname).toBe('/resolve');
    expect([...request.searchParams]).toEqual([
      ['site', 'aniworld.to'],
      ['slug', 'a~b*c (d)/é'],
      ['s', '1'],
      ['e', '3'],
      ['lang', 'English Sub'],
    ]);
  });

  it('adds provider and refresh=1 when asked', async () => {
    const at = fake.hits;
    await source().resolve({ ...frieren, provider: 'VOE' }, { refresh: true });
    const query = fake.requests[at]!.searchParams;
    expect(query.get('provider')).toBe('VOE');
    expect(query.get('refresh')).toBe('1');
  });

  it.each([
    ['/api', '/api/resolve'],
    ['/api/', '/api/resolve'],
    ['/a/b//', '/a/b/resolve'],
    ['', '/resolve'],
  ])('baseUrl with path %j calls %s', async (prefix, path) => {
    const at = fake.hits;
    const s = source({ baseUrl: `${fake.origin}${prefix}` });
    expect(s.endpoint).toBe(`${fake.origin}${path}`);
    await s.resolve(frieren, { refresh: false });
    expect(fake.requests[at]!.pathname).toBe(path);
  });

  it('sends options.headers with every call', async () => {
    const seen: (string | undefined)[] = [];
    const server = createServer((req, res) => {
      seen.push(req.headers.authorization);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"url":"https://cdn.example/a.mp4"}');
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const { port } = server.address() as AddressInfo;
      await source({ baseUrl: `http://127.0.0.1:${port}`, headers: { Authorization: 'Bearer t' } }).resolve(frieren, { refresh: false });
      expect(seen).toEqual(['Bearer t']);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});

describe('createHttpResolverSource: 200 answers', () => {
  it.each<[string, unknown, unknown]>([
    ['url only', { url: 'https://cdn.example/a.m3u8' }, { url: 'https://cdn.example/a.m3u8', headers: {} }],
    [
      'every field',
      { url: 'http://cdn.example/a.mp4?t=1', headers: { Referer: 'https://voe.example/', 'User-Agent': 'x' }, provider: 'VOE', expiresAt: '2025-01-01T12:00:00Z' },
      { url: 'http://cdn.example/a.mp4?t=1', headers: { Referer: 'https://voe.example/', 'User-Agent': 'x' }, provider: 'VOE', expiresAt: Date.UTC(2025, 0, 1, 12) },
    ],
    [
      'nulls for the optional fields',
      { url: 'https://cdn.example/a.m3u8', headers: null, provider: null, expiresAt: null },
      { url: 'https://cdn.example/a.m3u8', headers: {} },
    ],
    [
      'an offset and microseconds (Python isoformat)',
      { url: 'https://cdn.example/a.m3u8', expiresAt: '2025-01-01T13:00:00.123456+01:00' },
      { url: 'https://cdn.example/a.m3u8', headers: {}, expiresAt: Date.UTC(2025, 0, 1, 12, 0, 0, 123) },
    ],
    ['unknown fields are ignored', { url: 'https://cdn.example/a.m3u8', quality: '1080p' }, { url: 'https://cdn.example/a.m3u8', headers: {} }],
  ])('%s', async (_name, body, expected) => {
    fake.reply(() => ({ kind: 'json', body }));
    expect(await source().resolve(frieren, { refresh: false })).toEqual(expected);
  });

  it('accepts a body of exactly maxResponseBytes', async () => {
    const body = JSON.stringify({ url: 'https://cdn.example/a.m3u8', pad: '' });
    const padded = JSON.stringify({ url: 'https://cdn.example/a.m3u8', pad: 'x'.repeat(1000 - body.length) });
    expect(padded.length).toBe(1000);
    fake.reply(() => ({ kind: 'raw', body: padded }));
    expect((await source({ maxResponseBytes: 1000 }).resolve(frieren, { refresh: false })).url).toBe('https://cdn.example/a.m3u8');
  });
});

describe('createHttpResolverSource: failures', () => {
  it.each<[string, ResolverError['code'], Reply, number | undefined, RegExp]>([
    ['404', 'STRM_RESOLVER_NOT_FOUND', { kind: 'status', status: 404 }, 404, /does not know this episode/],
    ['500', 'STRM_RESOLVER_UNAVAILABLE', { kind: 'status', status: 500, body: 'boom' }, 500, /answered 500; expected 200 or 404/],
    ['503', 'STRM_RESOLVER_UNAVAILABLE', { kind: 'status', status: 503 }, 503, /answered 503/],
    ['302 (redirects are not followed)', 'STRM_RESOLVER_UNAVAILABLE', { kind: 'status', status: 302 }, 302, /answered 302/],
    ['201', 'STRM_RESOLVER_UNAVAILABLE', { kind: 'json', status: 201, body: { url: 'https://cdn.example/a' } }, 201, /answered 201/],
    ['invalid JSON', 'STRM_RESOLVER_BAD_RESPONSE', { kind: 'raw', body: '<html>oops https://cdn.example/?token=SECRET</html>', contentType: 'text/html' }, 200, /not UTF-8 JSON \(\d+ bytes, Content-Type text\/html\)/],
    ['JSON that is not an object', 'STRM_RESOLVER_BAD_RESPONSE', { kind: 'json', body: ['https://cdn.example/a'] }, 200, /not an object/],
    ['no url', 'STRM_RESOLVER_BAD_RESPONSE', { kind: 'json', body: { headers: {} } }, 200, /"url" must be an absolute http\(s\) URL; received undefined/],
    ['a non-http url', 'STRM_RESOLVER_BAD_RESPONSE', { kind: 'json', body: { url: 'ftp://cdn.example/a?token=SECRET' } }, 200, /"url" must be an absolute http\(s\) URL; received a URL with scheme "ftp:"/],
    ['a relative url', 'STRM_RESOLVER_BAD_RESPONSE', { kind: 'json', body: { url: '/a.m3u8?token=SECRET' } }, 200, /not an absolute URL/],
    ['headers as an array', 'STRM_RESOLVER_BAD_RESPONSE', { kind: 'json', body: { url: 'https://cdn.example/a', headers: [['Referer', 'x']] } }, 200, /"headers" must be an object/],
    ['a header value that is a number', 'STRM_RESOLVER_BAD_RESPONSE', { kind: 'json', body: { url: 'https://cdn.example/a', headers: { 'X-N': 1 } } }, 200, /"headers\["X-N"\]" must be a string/],
    ['a header name with a space', 'STRM_RESOLVER_BAD_RESPONSE', { kind: 'json', body: { url: 'https://cdn.example/a', headers: { 'Bad Name': 'v' } } }, 200, /token characters/],
    ['a header value with CR LF', 'STRM_RESOLVER_BAD_RESPONSE', { kind: 'json', body: { url: 'https://cdn.example/a', headers: { Referer: 'a\r\nX-Injected: SECRET' } } }, 200, /without CR, LF/],
    ['a header given twice in two cases', 'STRM_RESOLVER_BAD_RESPONSE', { kind: 'json', body: { url: 'https://cdn.example/a', headers: { Referer: 'a', referer: 'b' } } }, 200, /must appear once/],
    ['expiresAt as a number', 'STRM_RESOLVER_BAD_RESPONSE', { kind: 'json', body: { url: 'https://cdn.example/a', expiresAt: 1735732800 } }, 200, /"expiresAt" must be .* ISO 8601 .*; received 1735732800/],
    ['expiresAt without an offset', 'STRM_RESOLVER_BAD_RESPONSE', { kind: 'json', body: { url: 'https://cdn.example/a', expiresAt: '2025-01-01T12:00:00' } }, 200, /"expiresAt"/],
    ['an empty provider', 'STRM_RESOLVER_BAD_RESPONSE', { kind: 'json', body: { url: 'https://cdn.example/a', provider: '' } }, 200, /"provider"/],
    ['an oversized body with Content-Length', 'STRM_RESOLVER_BAD_RESPONSE', { kind: 'oversized', bytes: 70_000, declareLength: true }, 200, /too large; expected at most 65536 bytes, received Content-Length 7\d{4}/],
    ['an oversized chunked body', 'STRM_RESOLVER_BAD_RESPONSE', { kind: 'oversized', bytes: 70_000, declareLength: false }, 200, /too large; expected at most 65536 bytes, received more than 65536 bytes/],
  ])('%s → %s', async (_name, code, reply, status, message) => {
    fake.reply(() => reply);
    const error = await rejection(source().resolve(frieren, { refresh: false }));
    expect(error.code).toBe(code);
    expect(error.status).toBe(status);
    expect(error.message).toMatch(message);
    expect(error.message).toContain('aniworld.to/frieren S1E3 (German Dub)');
    expect(error.message).not.toContain('SECRET');
  });

  it('a body that stops after the headers → STRM_RESOLVER_TIMEOUT', async () => {
    fake.reply(() => ({ kind: 'slow-body' }));
    const started = performance.now();
    const error = await rejection(source({ timeoutMs: 200 }).resolve(frieren, { refresh: false }));
    expect(error.code).toBe('STRM_RESOLVER_TIMEOUT');
    expect(error.message).toMatch(/did not answer completely within 200 ms/);
    expect(performance.now() - started).toBeGreaterThanOrEqual(190);
  });

  it('a resolver that never answers → STRM_RESOLVER_TIMEOUT, and the next call succeeds', async () => {
    fake.reply(() => ({ kind: 'never' }));
    const s = source({ timeoutMs: 200 });
    expect((await rejection(s.resolve(frieren, { refresh: false }))).code).toBe('STRM_RESOLVER_TIMEOUT');
    fake.reply(defaultReply);
    const at = fake.hits;
    expect((await s.resolve(frieren, { refresh: false })).url).toBe(`https://cdn.example/frieren/s1e3/v${at + 1}.m3u8`);
  });

  it('a refused connection → STRM_RESOLVER_UNAVAILABLE with the socket error as cause', async () => {
    const closed = createServer();
    closed.listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const { port } = closed.address() as AddressInfo;
    closed.close();
    await once(closed, 'close');
    const error = await rejection(source({ baseUrl: `http://127.0.0.1:${port}` }).resolve(frieren, { refresh: false }));
    expect(error.code).toBe('STRM_RESOLVER_UNAVAILABLE');
    expect(error.message).toMatch(/could not reach the resolver at .*\(ECONNREFUSED\)/);
    expect(error.cause).toBeInstanceOf(Error);
  });

  it('a caller signal that aborts rejects with its reason, not a ResolverError', async () => {
    fake.reply(() => ({ kind: 'never' }));
    const controller = new AbortController();
    const call = source({ timeoutMs: 5000 }).resolve(frieren, { refresh: false, signal: controller.signal });
    await fake.hitsReached(fake.hits + 1);
    controller.abort(new Error('caller went away'));
    await expect(call).rejects.toThrow('caller went away');
  });
});

describe('createHttpResolverSource: options', () => {
  it.each<[string, Record<string, unknown>, RegExp]>([
    ['a relative baseUrl', { baseUrl: '/api' }, /options.baseUrl must be an absolute http\(s\) URL/],
    ['a non-http baseUrl', { baseUrl: 'ftp://r' }, /received scheme "ftp:"/],
    ['credentials in baseUrl', { baseUrl: 'http://u:p@r' }, /must not contain credentials/],
    ['a query in baseUrl', { baseUrl: 'http://r/?k=1' }, /must not have a query/],
    ['timeoutMs 0', { baseUrl: 'http://r', timeoutMs: 0 }, /options.timeoutMs must be a positive integer up to 2147483647; received 0/],
    ['timeoutMs too large', { baseUrl: 'http://r', timeoutMs: 2 ** 31 }, /options.timeoutMs/],
    ['maxResponseBytes 1.5', { baseUrl: 'http://r', maxResponseBytes: 1.5 }, /options.maxResponseBytes .*received 1.5/],
    ['a bad extra header', { baseUrl: 'http://r', headers: { 'a b': 'c' } }, /options.headers\["a b"\]/],
  ])('createHttpResolverSource(%s) throws a TypeError', (_name, options, message) => {
    expect(() => createHttpResolverSource(options as never)).toThrow(TypeError);
    expect(() => createHttpResolverSource(options as never)).toThrow(message);
  });

  it('resolve with an invalid identity throws a TypeError naming the field', async () => {
    await expect(source().resolve({ ...frieren, episode: -1 }, { refresh: false })).rejects.toThrow(/identity.episode must be a non-negative integer; received -1/);
  });
});
