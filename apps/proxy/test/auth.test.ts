import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { signedEntryUrl } from '@strm/signing';
import { fetchAll, mediaBytes, SECRET, serveBytes, startResolver, startServer, startTestProxy, type TestProxy, type TestResolver, type TestServer } from './support/servers';

const MEDIA = mediaBytes(1000);
const params = { site: 'aniworld.to', slug: 'video', s: 1, e: 1, lang: 'German Dub' };

let origin: TestServer;
let resolver: TestResolver;
const proxies: TestProxy[] = [];

beforeAll(async () => {
  origin = await startServer((req, res) => serveBytes(req, res, MEDIA));
  resolver = await startResolver([{ slug: 'video', url: () => `${origin.origin}/video.mp4` }]);
});

afterAll(async () => {
  await Promise.all(proxies.map((proxy) => proxy.close(0)));
  await resolver?.close();
  await origin?.close();
});

async function proxyWith(env: Record<string, string>): Promise<TestProxy> {
  const proxy = await startTestProxy(resolver, env);
  proxies.push(proxy);
  return proxy;
}

describe('token mode (default)', () => {
  let proxy: TestProxy;
  beforeAll(async () => {
    proxy = await proxyWith({ STRM_PROXY_PREVIOUS_SECRETS: 'old-secret' });
  });
  const entry = (secret: string, extra: Record<string, string | number> = {}) => signedEntryUrl(`${proxy.url}/strm/stream`, { ...params, ...extra }, secret);

  test('a URL signed with the current secret plays', async () => {
    expect((await fetchAll(entry(SECRET))).status).toBe(200);
  });

  test('a URL signed with a previous secret still plays (rotation)', async () => {
    expect((await fetchAll(entry('old-secret'))).status).toBe(200);
  });

  test('a URL with a future exp plays; a past exp is refused as expired', async () => {
    const now = Math.floor(Date.now() / 1000);
    expect((await fetchAll(signedEntryUrl(`${proxy.url}/strm/stream`, params, SECRET, { expiresAt: now + 3600 }))).status).toBe(200);
    const expired = await fetchAll(signedEntryUrl(`${proxy.url}/strm/stream`, params, SECRET, { expiresAt: now - 1 }));
    expect(expired.status).toBe(401);
    expect(expired.json().error.code).toBe('STRM_SIGNATURE_EXPIRED');
  });

  test.each([
    ['an unknown secret', (url: string) => url.replace(/sig=[0-9a-f]+/, 'sig=' + '0'.repeat(64))],
    ['a tampered episode', (url: string) => url.replace('e=1', 'e=2')],
    ['a flipped signature character', (url: string) => url.replace(/sig=([0-9a-f])/, (_m, c: string) => `sig=${c === 'a' ? 'b' : 'a'}`)],
    ['no signature', (url: string) => url.replace(/&?sig=[0-9a-f]+/, '')],
    ['a malformed signature', (url: string) => url.replace(/sig=[0-9a-f]+/, 'sig=xyz')],
  ])('%s → 401, and nothing is resolved', async (_label, mutate) => {
    const before = resolver.calls.get('video')?.total ?? 0;
    const response = await fetchAll(mutate(entry(SECRET)));
    expect(response.status).toBe(401);
    expect(response.json().error.code).toBe('STRM_UNAUTHORIZED');
    expect(response.json().error.message).not.toMatch(/[0-9a-f]{64}/);
    expect(resolver.calls.get('video')?.total ?? 0).toBe(before);
  });

  test('auth is checked before the parameters: a bad parameter unsigned is 401, not 400', async () => {
    expect((await fetchAll(`${proxy.url}/strm/stream?slug=&s=x`)).status).toBe(401);
  });
});

describe('apikey mode', () => {
  let proxy: TestProxy;
  beforeAll(async () => {
    proxy = await proxyWith({ STRM_PROXY_AUTH: 'apikey' });
  });
  const url = (extra = '') => `${proxy.url}/strm/stream?slug=video&s=1&e=1&lang=German+Dub${extra}`;

  test('apikey parameter or X-Api-Key header', async () => {
    expect((await fetchAll(url(`&apikey=${SECRET}`))).status).toBe(200);
    expect((await fetchAll(url(), { headers: { 'x-api-key': SECRET } })).status).toBe(200);
  });

  test.each([['no key', ''], ['a wrong key', '&apikey=wrong'], ['a prefix of the key', `&apikey=${SECRET.slice(0, 5)}`]])('%s → 401', async (_label, extra) => {
    const response = await fetchAll(url(extra));
    expect(response.status).toBe(401);
    expect(response.json().error.code).toBe('STRM_UNAUTHORIZED');
  });
});

describe('none mode', () => {
  test('unsigned URLs play, and the start-up log warns', async () => {
    const proxy = await proxyWith({ STRM_PROXY_AUTH: 'none' });
    expect((await fetchAll(`${proxy.url}/strm/stream?slug=video&s=1&e=1&lang=German+Dub`)).status).toBe(200);
    expect(proxy.logs.some((line) => line.level === 40 && String(line.msg).includes('STRM_PROXY_AUTH=none'))).toBe(true);
  });
});

describe('proxy tokens', () => {
  test.each([
    ['garbage', 'not-a-token', 'STRM_TOKEN_INVALID'],
    ['a long garbage', 'A'.repeat(300), 'STRM_TOKEN_INVALID'],
  ])('%s → 401 %s', async (_label, token, code) => {
    const proxy = proxies[0]!;
    const response = await fetchAll(`${proxy.url}/strm/proxy/${token}/seg.ts`);
    expect(response.status).toBe(401);
    expect(response.json().error.code).toBe(code);
  });
});
