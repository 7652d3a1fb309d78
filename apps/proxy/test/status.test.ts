// /status, /status.json, /status.js and /status.css against the real proxy: off by default,
// guarded by the secret (status links in every mode, the API key in apikey mode), served under a
// strict CSP, and showing streams, failures, the resolver cache and Redis without ever showing a
// secret, a signature, a token or an upstream query string.
import type { ServerResponse } from 'node:http';
import { signedEntryUrl } from '@strm/signing';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { freeLoopbackPort } from '../../../tools/testing/redis-server';
import { statusLink, statusLinkKey } from '../src/status-access';
import type { StatusSnapshot } from '../src/status-page';
import { fetchAll, SECRET, startResolver, startServer, startTestProxy, type TestProxy, type TestResolver } from './support/servers';

const PATH_TOKEN = 'PATHTOKEN0123456789';
const QUERY_SECRET = 'QUERYSECRET42';
const UPSTREAM_SIG = 'UPSTREAMSIGabcdef';
const CHUNK = 64 * 1024;

/** An origin that answers `/t/<token>/video.mp4` with headers and one chunk, then sends more only when told. */
async function startHeldOrigin() {
  const held: ServerResponse[] = [];
  const arrivals: Array<() => void> = [];
  const server = await startServer((req, res) => {
    if (req.url?.startsWith('/forbidden')) {
      res.writeHead(403).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'video/mp4' });
    res.write(Buffer.alloc(CHUNK, 1));
    held.push(res);
    arrivals.splice(0).forEach((resolve) => resolve());
  });
  return {
    server,
    arrived: () => new Promise<void>((resolve) => (held.length > 0 ? resolve() : arrivals.push(resolve))),
    send: () => held.forEach((res) => res.write(Buffer.alloc(CHUNK, 2))),
    end: () => held.splice(0).forEach((res) => res.end()),
  };
}

let origin: Awaited<ReturnType<typeof startHeldOrigin>>;
let resolver: TestResolver;
let proxy: TestProxy;

beforeAll(async () => {
  origin = await startHeldOrigin();
  resolver = await startResolver([
    { slug: 'held', episode: 3, url: () => `${origin.server.origin}/t/${PATH_TOKEN}/video.mp4?token=${QUERY_SECRET}&sig=${UPSTREAM_SIG}` },
    { slug: 'forbidden', url: () => `${origin.server.origin}/forbidden/video.mp4?token=${QUERY_SECRET}` },
  ]);
  proxy = await startTestProxy(resolver, { STRM_PROXY_STATUS: 'on' });
});

afterAll(async () => {
  origin?.end();
  await proxy?.close(0);
  await resolver?.close();
  await origin?.server.close();
});

const link = (target: TestProxy, secret = SECRET, ttl = 600, now = Date.now() / 1000) => new URL(statusLink(target.url, secret, ttl, now));
const at = (base: URL, path: string) => `${base.origin}${path}${base.search}`;
const snapshotOf = async (url: string) => JSON.parse((await fetchAll(url)).body.toString()) as StatusSnapshot;

describe('access', () => {
  test('off unless STRM_PROXY_STATUS=on: every status path is an unknown endpoint (404 JSON), even with a valid link', async () => {
    const off = await startTestProxy(resolver);
    try {
      for (const path of ['/status', '/status.json', '/status.js', '/status.css', '/status.svg']) {
        const response = await fetchAll(at(link(off), path));
        expect(response.status, path).toBe(404);
        expect(response.json().error.code).toBe('STRM_NOT_FOUND');
      }
    } finally {
      await off.close(0);
    }
  });

  test('a status link opens the page, its script, its style and its data, with a strict CSP and no referrer', async () => {
    const base = link(proxy);
    const types = { '/status': 'text/html', '/status.js': 'text/javascript', '/status.css': 'text/css', '/status.svg': 'image/svg+xml', '/status.json': 'application/json' };
    for (const [path, type] of Object.entries(types)) {
      const response = await fetchAll(at(base, path));
      expect(response.status, path).toBe(200);
      expect(response.headers['content-type']).toContain(type);
      expect(response.headers['content-security-policy']).toBe("default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'");
      expect(response.headers['referrer-policy']).toBe('no-referrer');
      expect(response.headers['cache-control']).toBe('no-store');
      expect(response.headers['x-content-type-options']).toBe('nosniff');
    }
  });

  test('the page loads its script and style from its own origin with its own credentials, and inlines neither', async () => {
    const base = link(proxy);
    const html = (await fetchAll(at(base, '/status'))).body.toString();
    const query = base.search.replaceAll('&', '&amp;');
    expect(html).toContain(`<script src="status.js${query}" defer></script>`);
    expect(html).toContain(`<link rel="stylesheet" href="status.css${query}">`);
    expect(html).toContain(`<link rel="icon" type="image/svg+xml" href="status.svg${query}">`);
    expect(html.match(/<script\b/g)).toHaveLength(1);
    expect(html).not.toMatch(/<style\b|\sstyle=|\son[a-z]+=|javascript:|https?:\/\//);
  });

  test.each([
    ['no credentials', () => '', /strm-proxy status-url/],
    ['a signed .strm entry URL (its signature is not a status link)', () => new URL(proxy.entryUrl('held')).search, /not a status link/],
    ['an entry-style signature over scope=status made with the secret itself', () => new URL(signedEntryUrl(`${proxy.url}/status`, { scope: 'status' }, SECRET, { expiresAt: Math.floor(Date.now() / 1000) + 60 })).search, /does not match/],
    ['a link that does not expire', () => new URL(signedEntryUrl(`${proxy.url}/status`, { scope: 'status' }, statusLinkKey(SECRET))).search, /not a status link/],
    ['an expired link', () => link(proxy, SECRET, 60, Date.now() / 1000 - 120).search, /expired/],
    ['a link with a changed expiry', () => link(proxy).search.replace(/exp=(\d+)/, (_all, exp: string) => `exp=${Number(exp) + 1000}`), /does not match/],
    ['a link made with another secret', () => link(proxy, 'another-secret').search, /does not match/],
    ['an API key in token mode', () => `?apikey=${SECRET}`, /strm-proxy status-url/],
  ])('401 JSON for %s, on every path', async (_name, query, message) => {
    for (const path of ['/status', '/status.json', '/status.js', '/status.css', '/status.svg']) {
      const response = await fetchAll(`${proxy.url}${path}${query()}`);
      expect(response.status, path).toBe(401);
      expect(response.headers['content-type']).toContain('application/json');
      expect(response.headers['referrer-policy']).toBe('no-referrer');
      expect(response.json().error).toMatchObject({ code: 'STRM_UNAUTHORIZED', message: expect.stringMatching(message) });
      expect(response.body.toString()).not.toContain(SECRET);
    }
  });

  test('apikey mode takes the key (parameter or X-Api-Key) and status links; a wrong key is refused', async () => {
    const keyed = await startTestProxy(resolver, { STRM_PROXY_STATUS: 'on', STRM_PROXY_AUTH: 'apikey', STRM_PROXY_PREVIOUS_SECRETS: 'old-secret' });
    try {
      expect((await fetchAll(`${keyed.url}/status?apikey=${SECRET}`)).status).toBe(200);
      expect((await fetchAll(`${keyed.url}/status.json?apikey=old-secret`)).status).toBe(200);
      expect((await fetchAll(`${keyed.url}/status.json`, { headers: { 'x-api-key': SECRET } })).status).toBe(200);
      expect((await fetchAll(at(link(keyed), '/status.json'))).status).toBe(200);
      expect((await fetchAll(at(link(keyed, 'old-secret'), '/status.json'))).status).toBe(200);
      const wrong = await fetchAll(`${keyed.url}/status.json?apikey=nope`);
      expect(wrong.status).toBe(401);
      expect(wrong.json().error.code).toBe('STRM_UNAUTHORIZED');
      expect((await fetchAll(`${keyed.url}/status.json`, { headers: { 'x-api-key': 'nope' } })).status).toBe(401);
      // The page hands the key on to its script and style, never more than the credentials.
      const html = (await fetchAll(`${keyed.url}/status?apikey=${SECRET}&x=%3Cscript%3E`)).body.toString();
      expect(html).toContain(`status.js?apikey=${SECRET}"`);
      expect(html).not.toContain('x=');
    } finally {
      await keyed.close(0);
    }
  });
});

describe('what it shows', () => {
  test('a stream in flight (bytes growing), failures with their codes, the resolver cache; never a secret, signature, token or upstream query', async () => {
    const base = link(proxy);
    const entry = proxy.entryUrl('held', { e: 3 });
    const playing = await request(entry);
    let received = 0;
    const waiters: Array<{ bytes: number; resolve: () => void }> = [];
    playing.body.on('data', (chunk: Buffer) => {
      received += chunk.length;
      for (const waiter of waiters.filter((w) => received >= w.bytes)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    });
    const receivedAtLeast = (bytes: number) => new Promise<void>((resolve) => (received >= bytes ? resolve() : waiters.push({ bytes, resolve })));
    await origin.arrived();
    await receivedAtLeast(CHUNK);

    expect((await fetchAll(proxy.entryUrl('forbidden'))).status).toBe(403);
    expect((await fetchAll(proxy.entryUrl('unknown'))).status).toBe(404);
    expect((await fetchAll(`${proxy.url}/strm/stream?slug=held&sig=0000`)).status).toBe(401);

    const first = await snapshotOf(at(base, '/status.json'));
    expect(first.streams).toHaveLength(1);
    const [stream] = first.streams;
    expect(stream).toMatchObject({
      episode: 'held S01E03 · German Dub · aniworld.to',
      client: '127.0.0.1',
      route: 'stream',
      path: '/strm/stream',
      status: 200,
      upstreamHost: `127.0.0.1:${origin.server.port}`,
      refreshes: 0,
      resumes: 0,
    });
    expect(stream!.bytes).toBeGreaterThanOrEqual(CHUNK);

    origin.send();
    await receivedAtLeast(2 * CHUNK);
    const second = await snapshotOf(at(base, '/status.json'));
    expect(second.streams[0]!.bytes).toBeGreaterThanOrEqual(2 * CHUNK);
    expect(second.streams[0]!.durationMs).toBeGreaterThanOrEqual(stream!.durationMs);
    expect(second.streams[0]!.bytesPerSecond).toBeGreaterThan(0);

    expect(second.failures.map((failure) => [failure.code, failure.status, failure.episode])).toEqual([
      ['STRM_UNAUTHORIZED', 401, null],
      ['STRM_EPISODE_NOT_FOUND', 404, 'unknown S01E01 · German Dub · aniworld.to'],
      ['STRM_UPSTREAM_FAILED', 403, 'forbidden S01E01 · German Dub · aniworld.to'],
    ]);
    expect(second.failures[2]).toMatchObject({ cause: 'the upstream answered 403', upstreamHost: `127.0.0.1:${origin.server.port}`, path: '/strm/stream' });
    expect(second.resolverCache.total).toBe(2);
    expect(second.resolverCache.entries!.map((cached) => [cached.episode, cached.expiresInSeconds, cached.refreshed])).toEqual([
      ['forbidden S01E01 · German Dub · aniworld.to', null, true],
      ['held S01E03 · German Dub · aniworld.to', null, false],
    ]);
    expect(second).toMatchObject({ version: expect.stringMatching(/^\d+\.\d+\.\d+/), auth: 'token', redis: null });
    expect(second.uptimeSeconds).toBeGreaterThanOrEqual(0);
    expect((await fetchAll(`${proxy.url}/metrics`)).body.toString()).toMatch(/^strm_active_streams 1$/m);

    const data = JSON.stringify(second);
    const shown = [data, (await fetchAll(at(base, '/status'))).body.toString(), (await fetchAll(at(base, '/status.js'))).body.toString()].join('\n');
    const entrySig = new URL(entry).searchParams.get('sig')!;
    for (const secret of [PATH_TOKEN, QUERY_SECRET, UPSTREAM_SIG, SECRET, entrySig, 'token=', '/strm/proxy/']) {
      expect(shown, secret).not.toContain(secret);
    }
    // The page repeats its own link to load its script and style; the data holds no signature at all.
    expect(data).not.toContain(base.searchParams.get('sig')!);
    expect(data).not.toContain('sig=');

    origin.end();
    await playing.body.dump().catch(() => undefined);
    await proxy.waitForLog((line) => line.msg === 'request' && line.status === 200);
    const after = await snapshotOf(at(base, '/status.json'));
    expect(after.streams).toEqual([]);
    expect((await fetchAll(`${proxy.url}/metrics`)).body.toString()).toMatch(/^strm_active_streams 0$/m);
  });

  test('Redis: its state and host:port, never the URL (it may hold a password); the shared cache is not listed', async () => {
    const port = await freeLoopbackPort();
    const replica = await startTestProxy(resolver, { STRM_PROXY_STATUS: 'on', STRM_PROXY_REDIS_URL: `redis://:hunter2@127.0.0.1:${port}/0` });
    try {
      const text = (await fetchAll(at(link(replica), '/status.json'))).body.toString();
      const status = JSON.parse(text) as StatusSnapshot;
      expect(status.redis).toMatchObject({ state: expect.stringMatching(/^(connecting|down)$/), target: `127.0.0.1:${port}` });
      expect(status.resolverCache).toEqual({ total: null, entries: null });
      expect(text).not.toContain('hunter2');
    } finally {
      await replica.close(0);
    }
  });
});
