import { describe, expect, it } from 'vitest';
import { createMemoryStore, type StoredResolution } from '../src/index';

const stored = (url: string): StoredResolution => ({ resolution: { url, headers: { Referer: 'r' } }, resolvedAt: 1, refreshed: false });

describe('createMemoryStore', () => {
  it('maxEntries bounds it: the least recently used entry goes first', async () => {
    const store = createMemoryStore({ maxEntries: 2 });
    await store.set('a', stored('https://a/'), undefined);
    await store.set('b', stored('https://b/'), undefined);
    await store.get('a'); // a is now more recent than b
    await store.set('c', stored('https://c/'), undefined);
    expect(await store.get('b')).toBeUndefined();
    expect((await store.get('a'))?.resolution.url).toBe('https://a/');
    expect((await store.get('c'))?.resolution.url).toBe('https://c/');
  });

  it('ttlMs is honoured on its clock; undefined keeps the entry', async () => {
    let t = 1_000_000;
    const store = createMemoryStore({ now: () => t });
    await store.set('short', stored('https://s/'), 1000);
    await store.set('forever', stored('https://f/'), undefined);
    t += 999;
    expect(await store.get('short')).toBeDefined();
    t += 2;
    expect(await store.get('short')).toBeUndefined();
    t += 10 ** 9;
    expect(await store.get('forever')).toBeDefined();
  });

  it('entries lists what has not expired, most recently used first, as copies', async () => {
    let t = 1_000_000;
    const store = createMemoryStore({ now: () => t });
    await store.set('a', stored('https://a/'), undefined);
    await store.set('b', stored('https://b/'), 1000);
    await store.set('c', stored('https://c/'), undefined);
    await store.get('a');
    expect((await store.entries!()).map(([key, value]) => [key, value.resolution.url])).toEqual([
      ['a', 'https://a/'],
      ['c', 'https://c/'],
      ['b', 'https://b/'],
    ]);
    const [[, listed]] = (await store.entries!()) as [[string, StoredResolution]];
    listed.resolution.url = 'https://changed/';
    expect((await store.get('a'))?.resolution.url).toBe('https://a/');
    t += 1001;
    expect((await store.entries!()).map(([key]) => key)).toEqual(['a', 'c']);
  });

  it('delete removes', async () => {
    const store = createMemoryStore();
    await store.set('a', stored('https://a/'), undefined);
    await store.delete('a');
    expect(await store.get('a')).toBeUndefined();
  });

  it('values are copied in and out', async () => {
    const store = createMemoryStore();
    const value = stored('https://a/');
    await store.set('a', value, undefined);
    value.resolution.headers['Referer'] = 'changed in';
    const out = await store.get('a');
    out!.resolution.headers['Referer'] = 'changed out';
    expect((await store.get('a'))?.resolution.headers).toEqual({ Referer: 'r' });
  });

  it.each<[string, unknown, RegExp]>([
    ['maxEntries 0', { maxEntries: 0 }, /options.maxEntries must be a positive integer/],
    ['maxEntries 1.5', { maxEntries: 1.5 }, /received 1.5/],
    ['now as a number', { now: 1 }, /options.now must be a function/],
  ])('createMemoryStore(%s) throws a TypeError', (_name, options, message) => {
    expect(() => createMemoryStore(options as never)).toThrow(message);
  });

  it.each([0, -1, Number.NaN, Number.POSITIVE_INFINITY])('set with ttlMs %s throws a TypeError', async (ttl) => {
    await expect(createMemoryStore().set('a', stored('https://a/'), ttl)).rejects.toThrow(TypeError);
  });
});
