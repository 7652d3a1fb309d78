import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createResolverClient, createStaticResolverSource, loadStaticResolverFile, ResolverError, type EpisodeIdentity, type StaticEntry } from '../src/index';

const episode = { site: 'aniworld.to', slug: 'frieren', season: 1, episode: 3, language: 'German Dub' };
const entries: StaticEntry[] = [
  { ...episode, provider: 'VOE', url: 'https://voe.example/e3.m3u8', headers: { Referer: 'https://voe.example/' } },
  { ...episode, url: 'https://any.example/e3.mp4' },
  { ...episode, provider: 'Filemoon', url: 'https://filemoon.example/e3.m3u8' },
  { ...episode, episode: 4, provider: 'VOE', url: 'https://voe.example/e4.m3u8' },
  { ...episode, language: 'English Sub', url: 'https://any.example/e3-en.mp4' },
];

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'strm-resolver-static-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('createStaticResolverSource: lookups', () => {
  const source = createStaticResolverSource(entries);
  it.each<[string, EpisodeIdentity, string, string | undefined]>([
    ['no provider asked: the first entry of the episode', episode, 'https://voe.example/e3.m3u8', 'VOE'],
    ['provider VOE: its own entry', { ...episode, provider: 'VOE' }, 'https://voe.example/e3.m3u8', 'VOE'],
    ['provider Filemoon: its own entry, though a provider-less one comes first', { ...episode, provider: 'Filemoon' }, 'https://filemoon.example/e3.m3u8', 'Filemoon'],
    ['provider Doodstream: the entry without provider', { ...episode, provider: 'Doodstream' }, 'https://any.example/e3.mp4', undefined],
    ['another language', { ...episode, language: 'English Sub' }, 'https://any.example/e3-en.mp4', undefined],
    ['another language with a provider: its entry without provider', { ...episode, language: 'English Sub', provider: 'VOE' }, 'https://any.example/e3-en.mp4', undefined],
    ['episode 4 without provider', { ...episode, episode: 4 }, 'https://voe.example/e4.m3u8', 'VOE'],
  ])('%s', async (_name, identity, url, provider) => {
    const resolution = await source.resolve(identity, { refresh: false });
    expect(resolution.url).toBe(url);
    expect(resolution.provider).toBe(provider);
  });

  it.each<[string, EpisodeIdentity]>([
    ['an unknown slug', { ...episode, slug: 'other' }],
    ['an unknown site', { ...episode, site: 's.to' }],
    ['episode 4 with a provider it lacks', { ...episode, episode: 4, provider: 'Filemoon' }],
    ['season 2', { ...episode, season: 2 }],
  ])('%s → STRM_RESOLVER_NOT_FOUND', async (_name, identity) => {
    await expect(source.resolve(identity, { refresh: false })).rejects.toMatchObject({ code: 'STRM_RESOLVER_NOT_FOUND', message: expect.stringMatching(/^static resolver: no entry for /) });
  });

  it('headers are returned, as copies', async () => {
    const first = await source.resolve({ ...episode, provider: 'VOE' }, { refresh: true });
    expect(first.headers).toEqual({ Referer: 'https://voe.example/' });
    first.headers['Referer'] = 'changed';
    expect((await source.resolve({ ...episode, provider: 'VOE' }, { refresh: false })).headers).toEqual({ Referer: 'https://voe.example/' });
  });

  it('works behind the client (cache and all)', async () => {
    const client = createResolverClient({ source });
    expect((await client.resolve(episode)).resolution.url).toBe('https://voe.example/e3.m3u8');
  });
});

const badEntries: [string, unknown[], RegExp][] = [
  ['no url', [{ ...episode }], /entries\[0\]\.url must be an absolute http\(s\) URL; received undefined/],
  ['a non-http url', [{ ...episode, url: 'https://a.example/' }, { ...episode, provider: 'X', url: 'ftp://a.example/?token=SECRET' }], /entries\[1\]\.url must be an absolute http\(s\) URL; received a URL with scheme "ftp:"/],
  ['a season as a string', [{ ...episode, season: '1', url: 'https://a.example/' }], /entries\[0\]\.season must be a non-negative integer; received "1"/],
  ['no slug', [{ ...episode, slug: undefined, url: 'https://a.example/' }], /entries\[0\]\.slug must be a non-empty string; received undefined/],
  ['an empty provider', [{ ...episode, provider: '', url: 'https://a.example/' }], /entries\[0\]\.provider must be absent or a non-empty string/],
  ['a header value that is a number', [{ ...episode, url: 'https://a.example/', headers: { 'X-A': 1 } }], /entries\[0\]\.headers\["X-A"\] must be a string/],
  ['an entry that is a string', ['https://a.example/'], /entries\[0\] must be an object; received "https:\/\/a.example\/"/],
  ['two entries for one episode and provider', [{ ...episode, url: 'https://a.example/' }, { ...episode, url: 'https://b.example/' }], /entries\[1\]\.provider must make the entry unique; entries\[0\] has the same episode and provider/],
];

describe('createStaticResolverSource: bad entries', () => {
  it.each(badEntries)('%s → TypeError naming the entry and field', (_name, list, message) => {
    expect(() => createStaticResolverSource(list as StaticEntry[])).toThrow(TypeError);
    expect(() => createStaticResolverSource(list as StaticEntry[])).toThrow(message);
  });
});

describe('loadStaticResolverFile', () => {
  async function file(name: string, content: string): Promise<string> {
    const path = join(dir, name);
    await writeFile(path, content);
    return path;
  }

  it('reads { "entries": [...] }', async () => {
    const source = await loadStaticResolverFile(await file('entries.json', JSON.stringify({ entries })));
    expect((await source.resolve({ ...episode, provider: 'Filemoon' }, { refresh: false })).url).toBe('https://filemoon.example/e3.m3u8');
  });

  it('reads a bare array', async () => {
    const source = await loadStaticResolverFile(await file('array.json', JSON.stringify(entries)));
    expect((await source.resolve(episode, { refresh: false })).url).toBe('https://voe.example/e3.m3u8');
  });

  it.each(badEntries)('a file with %s → STRM_RESOLVER_BAD_FILE naming the file, entry and field', async (name, list, message) => {
    const path = await file(`bad-${name.replaceAll(' ', '-')}.json`, JSON.stringify({ entries: list }));
    const error = await loadStaticResolverFile(path).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ResolverError);
    expect(error).toMatchObject({ code: 'STRM_RESOLVER_BAD_FILE' });
    expect((error as Error).message).toContain(`static resolver file ${path}: `);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain('SECRET');
  });

  it.each<[string, string, RegExp]>([
    ['not JSON', '{"entries": [ {"url": "https://a.example/?token=SECRET" ', /is not valid JSON; expected \{"entries": \[\.\.\.\]\} or an array of entries/],
    ['an object without entries', '{"items": []}', /: entries must be an array of entries; received undefined/],
    ['a number', '42', /: entries must be an array of entries; received 42/],
  ])('a file that is %s → STRM_RESOLVER_BAD_FILE', async (name, content, message) => {
    const error = await loadStaticResolverFile(await file(`${name.replaceAll(' ', '-')}.json`, content)).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'STRM_RESOLVER_BAD_FILE', message: expect.stringMatching(message) });
    expect((error as Error).message).not.toContain('SECRET');
  });

  it('a missing file → STRM_RESOLVER_BAD_FILE (ENOENT) with the cause', async () => {
    const error = await loadStaticResolverFile(join(dir, 'missing.json')).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'STRM_RESOLVER_BAD_FILE', message: expect.stringMatching(/could not be read \(ENOENT\)/) });
    expect((error as Error).cause).toMatchObject({ code: 'ENOENT' });
  });
});
