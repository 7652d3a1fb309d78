import { createHttpResolverSource, createStaticResolverSource } from '@strm/resolver-client';
import { Agent, request } from 'undici';
import type { Dispatcher } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeCdn } from '../src/fake-cdn';
import type { FakeCdn } from '../src/fake-cdn';
import { demoCatalog, startFakeResolver, staticResolverFile } from '../src/fake-resolver';
import type { CatalogEntry, EpisodeIdentity, FakeResolver } from '../src/fake-resolver';

let clock = 1_700_000_000_000;
let cdn: FakeCdn;
let resolver: FakeResolver;
const otherAddress = new Agent({ localAddress: '127.0.0.2' });

const base = { site: 'aniworld.to', slug: 'fake-resolver-test', season: 2, language: 'German Dub' } as const;
const catalog: CatalogEntry[] = [
  ...demoCatalog,
  { ...base, episode: 1, path: 'mp4-faststart/video.mp4' },
  { ...base, episode: 2, path: 'mp4-faststart/video.mp4', bindToRequester: true },
  { ...base, episode: 3, path: 'hls-fmp4/master.m3u8', faults: { expireAfterMs: 60_000 } },
  { ...base, episode: 4, path: 'hls-fmp4/master.m3u8', faults: { expireAfterMs: 60_000 }, announceExpiry: false },
  { ...base, episode: 5, provider: 'VOE', path: 'hls-byterange/index.m3u8' },
  { ...base, episode: 6, path: 'mp4-moov-end/video.mp4', faults: { expireAfterUses: 0, failFirst: { count: 1, status: 503 } } },
];
const episode = (n: number, extra: Partial<EpisodeIdentity> = {}): EpisodeIdentity => ({ ...base, episode: n, ...extra });

function resolveUrl(identity: EpisodeIdentity, extra: Record<string, string> = {}): string {
  const query = new URLSearchParams({
    site: identity.site,
    slug: identity.slug,
    s: String(identity.season),
    e: String(identity.episode),
    lang: identity.language,
    ...(identity.provider ? { provider: identity.provider } : {}),
    ...extra,
  });
  return `${resolver.url}/resolve?${query}`;
}

async function getJson(url: string, dispatcher?: Dispatcher): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await request(url, dispatcher ? { dispatcher } : {});
  return { status: res.statusCode, body: (await res.body.json()) as Record<string, unknown> };
}

async function status(url: string, headers: Record<string, string> = {}, dispatcher?: Dispatcher): Promise<number> {
  const res = await request(url, { headers: { range: 'bytes=0-0', ...headers }, ...(dispatcher ? { dispatcher } : {}) });
  await res.body.dump();
  return res.statusCode;
}

beforeAll(async () => {
  cdn = await startFakeCdn({ now: () => clock });
  resolver = await startFakeResolver({ cdn, catalog, now: () => clock });
});
afterAll(async () => {
  await otherAddress.close();
  await resolver.close();
  await cdn.close();
});

describe('GET /resolve (docs/contract.md, Resolver)', () => {
  it('every call issues a fresh CDN URL (rotation), and every one of them plays', async () => {
    const first = await getJson(resolveUrl(episode(1)));
    const second = await getJson(resolveUrl(episode(1)));
    expect(first.status).toBe(200);
    expect(first.body).toEqual({ url: expect.stringMatching(/\/t\/[\w-]+\/mp4-faststart\/video\.mp4$/) });
    expect(second.body['url']).not.toBe(first.body['url']);
    expect(await status(String(first.body['url']))).toBe(206);
    expect(await status(String(second.body['url']))).toBe(206);
    expect(resolver.issuedUrls(episode(1))).toEqual([first.body['url'], second.body['url']]);
  });

  it('counts calls per identity, with and without refresh=1', async () => {
    const identity = episode(5);
    await getJson(resolveUrl(identity));
    await getJson(resolveUrl(identity, { refresh: '1' }));
    await getJson(resolveUrl(identity, { refresh: '1' }));
    expect(resolver.hits(identity)).toEqual({ total: 3, refresh: 2, plain: 1 });
    expect(resolver.hits(episode(99))).toEqual({ total: 0, refresh: 0, plain: 0 });
  });

  it.each<[string, Record<string, string>, number]>([
    ['an unknown episode', { e: '99' }, 404],
    ['an unknown slug', { slug: 'nope' }, 404],
    ['provider VOE on a VOE entry', { e: '5', provider: 'VOE' }, 200],
    ['provider Filemoon on a VOE entry', { e: '5', provider: 'Filemoon' }, 404],
    ['no provider on a VOE entry', { e: '5' }, 200],
    ['no slug', { slug: '' }, 400],
    ['e=x', { e: 'x' }, 400],
    ['no lang', { lang: '' }, 400],
  ])('%s (%o) → %i', async (_, override, expected) => {
    const query = new URLSearchParams({ site: base.site, slug: base.slug, s: '2', e: '1', lang: base.language, ...override });
    const res = await getJson(`${resolver.url}/resolve?${query}`);
    expect(res.status).toBe(expected);
    if (expected === 200 && override['e'] === '5') expect(res.body['provider']).toBe('VOE');
  });

  it('bindToRequester binds the URL to the address that asked: 127.0.0.2 plays it, 127.0.0.1 gets 403', async () => {
    const fromOther = await getJson(resolveUrl(episode(2)), otherAddress);
    const url = String(fromOther.body['url']);
    expect(resolver.requests.at(-1)?.remoteAddress).toBe('127.0.0.2');
    expect(await status(url, {}, otherAddress)).toBe(206);
    expect(await status(url)).toBe(403);
    const fromHere = String((await getJson(resolveUrl(episode(2)))).body['url']);
    expect(await status(fromHere)).toBe(206);
    expect(await status(fromHere, {}, otherAddress)).toBe(403);
  });

  it('expiresAt = issue time + expireAfterMs by the shared clock; omitted with announceExpiry: false', async () => {
    const announced = await getJson(resolveUrl(episode(3)));
    expect(announced.body['expiresAt']).toBe(new Date(clock + 60_000).toISOString());
    const silent = await getJson(resolveUrl(episode(4)));
    expect(silent.body).not.toHaveProperty('expiresAt');
    const url = String(announced.body['url']);
    clock += 60_000;
    expect(await status(url)).toBe(403);
  });

  it('headers: demo episode 3 answers the Referer its CDN URL requires', async () => {
    const identity = demoCatalog[2]!;
    const res = await getJson(resolveUrl(identity));
    expect(res.body['headers']).toEqual({ Referer: 'https://aniworld.to/' });
    const url = String(res.body['url']);
    expect(await status(url)).toBe(403);
    expect(await status(url, { referer: 'https://aniworld.to/' })).toBe(206);
  });

  it('resolves through @strm/resolver-client (the real client) with refresh', async () => {
    const source = createHttpResolverSource({ baseUrl: resolver.url, timeoutMs: 2_000 });
    const identity = episode(3);
    const before = resolver.hits(identity);
    const plain = await source.resolve(identity, { refresh: false });
    const refreshed = await source.resolve(identity, { refresh: true });
    expect(plain.url).not.toBe(refreshed.url);
    expect(plain.expiresAt).toBe(clock + 60_000);
    expect(resolver.hits(identity)).toEqual({ total: before.total + 2, refresh: before.refresh + 1, plain: before.plain + 1 });
  });
});

describe('switches', () => {
  it('status 503, slow, invalid JSON, then normal again', async () => {
    const identity = episode(1);
    resolver.setBehavior({ kind: 'status', status: 503 });
    expect((await getJson(resolveUrl(identity))).status).toBe(503);
    resolver.setBehavior({ kind: 'invalid-json' });
    const invalid = await request(resolveUrl(identity));
    await expect(invalid.body.json()).rejects.toThrow();
    resolver.setBehavior({ kind: 'slow', delayMs: 250 });
    const started = performance.now();
    expect((await getJson(resolveUrl(identity))).status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(245);
    resolver.setBehavior({ kind: 'normal' });
    expect((await getJson(resolveUrl(identity))).status).toBe(200);
  });

  it('setBehavior({ kind: "status", status: 42 }) throws TypeError', () => {
    expect(() => resolver.setBehavior({ kind: 'status', status: 42 })).toThrow(TypeError);
  });

  it('down: after close() the resolver URL refuses connections', async () => {
    const doomed = await startFakeResolver({ cdn, catalog });
    expect((await getJson(`${doomed.url}/resolve?slug=strm-demo&s=1&e=1&lang=German%20Dub`)).status).toBe(200);
    await doomed.close();
    await expect(request(`${doomed.url}/resolve?slug=strm-demo&s=1&e=1&lang=German%20Dub`)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });
});

describe('staticResolverFile', () => {
  it('one entry per catalog entry, URLs that play, headers kept, accepted by @strm/resolver-client', async () => {
    const file = staticResolverFile(cdn, catalog);
    expect(file.entries).toHaveLength(catalog.length);
    expect(file.entries[0]).toEqual({
      site: 'aniworld.to', slug: 'strm-demo', season: 1, episode: 1, language: 'German Dub',
      url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/t\/[\w-]+\/mp4-faststart\/video\.mp4$/),
    });
    for (const entry of file.entries) {
      expect({ entry: entry.url, status: await status(entry.url, entry.headers ?? {}) }).toEqual({ entry: entry.url, status: 206 });
    }
    const source = createStaticResolverSource(file.entries);
    const demo3 = await source.resolve(demoCatalog[2]!, { refresh: false });
    expect(demo3.headers).toEqual({ Referer: 'https://aniworld.to/' });
  });

  it('drops the faults a static URL cannot survive (expiry, binding, failures)', async () => {
    const entry = staticResolverFile(cdn, catalog).entries.find((e) => e.slug === base.slug && e.episode === 6)!;
    for (let i = 0; i < 3; i++) expect(await status(entry.url)).toBe(206);
  });
});
