import { describe, expect, it } from 'vitest';
import { mediaFileName, type UriKind } from '../src/index';

describe('mediaFileName (docs/contract.md, Playlists: link names)', () => {
  it.each<[string | undefined, UriKind, boolean, string]>([
    ['https://cdn.test/v/seg-001.ts?token=1', 'segment', false, 'seg-001.ts'],
    ['https://cdn.test/v/SEG-001.TS', 'segment', false, 'SEG-001.TS'],
    ['https://cdn.test/v/chunk.m4s', 'segment', true, 'chunk.m4s'],
    ['https://cdn.test/v/audio.aac', 'segment', false, 'audio.aac'],
    ['https://cdn.test/v/subs.webvtt', 'segment', false, 'subs.webvtt'],
    ['https://cdn.test/v/seg-001.jpg', 'segment', false, 'seg-001.ts'],
    ['https://cdn.test/v/seg-001.png', 'segment', true, 'seg-001.m4s'],
    ['https://cdn.test/v/seg-001', 'segment', false, 'seg-001.ts'],
    ['https://cdn.test/v/seg.html', 'segment', false, 'seg.ts'],
    ['https://cdn.test/v/init.bin', 'map', true, 'init.mp4'],
    ['https://cdn.test/v/', 'map', true, 'init.mp4'],
    ['https://cdn.test/v/child.txt', 'playlist', false, 'child.m3u8'],
    ['https://cdn.test/v/index.m3u8?x=.ts', 'playlist', false, 'index.m3u8'],
    ['https://keys.test/key.php?r=52', 'key', false, 'key.key'],
    ['https://keys.test/k', 'key', false, 'k.key'],
    ['https://cdn.test/lyrics.json', 'data', false, 'lyrics.json'],
    ['https://cdn.test/steering?video=1', 'steering', false, 'steering.json'],
    ['https://cdn.test/ads/list', 'data', false, 'list.json'],
    ['https://cdn.test/v/%C3%A9pisode%201.ts', 'segment', false, '_pisode_1.ts'],
    ['https://cdn.test/v/a%2F..%2Fb.ts', 'segment', false, 'a_.._b.ts'],
    ['https://cdn.test/v/..', 'segment', false, 'segment.ts'],
    ['https://cdn.test/v/.hidden.ts', 'segment', false, 'hidden.ts'],
    ['https://cdn.test/v/....ts', 'segment', false, 'segment.ts'],
    ['https://cdn.test/v/%E0%A4%A.ts', 'segment', false, '_E0_A4_A.ts'],
    [undefined, 'segment', false, 'segment.ts'],
  ])('mediaFileName({ url: %j, kind: %j, hasMap: %s }) → %j', (url, kind, hasMap, expected) => {
    expect(mediaFileName({ url: url === undefined ? undefined : new URL(url), kind, hasMap })).toBe(expected);
  });

  it('a very long name is cut to 100 characters before the extension', () => {
    const name = mediaFileName({ url: new URL(`https://cdn.test/${'x'.repeat(5000)}.ts`), kind: 'segment', hasMap: false });
    expect(name).toBe(`${'x'.repeat(100)}.ts`);
  });

  it('names only ever hold [A-Za-z0-9._-] and never start with a dot', () => {
    for (const path of ['a b', '«»', '%00', '..%2F..', 'x/y', '~user', '\u0000']) {
      const name = mediaFileName({ url: new URL(`https://cdn.test/${encodeURIComponent(path)}`), kind: 'key', hasMap: false });
      expect(name).toMatch(/^[A-Za-z0-9_-][A-Za-z0-9._-]*\.[a-z0-9]+$/);
    }
  });

  it('an unknown kind is a TypeError', () => {
    expect(() => mediaFileName({ url: undefined, kind: 'video' as UriKind, hasMap: false })).toThrow(TypeError);
  });
});

describe('mediaFileName reads href when it is there', () => {
  it.each([
    ['https://cdn.test/v/seg-001.ts?token=a/b.jpg#x/y', 'segment', 'seg-001.ts'],
    ['https://cdn.test/v/seg.jpg#frag/z.ts', 'segment', 'seg.ts'],
    ['https://cdn.test/', 'playlist', 'playlist.m3u8'],
    ['https://cdn.test/%C3%A9.key', 'key', '_.key'],
  ] as const)('mediaFileName({ href: %j, kind: %j }) → %j', (href, kind, expected) => {
    expect(mediaFileName({ href, url: undefined, kind, hasMap: false })).toBe(expected);
    expect(mediaFileName({ url: new URL(href), kind, hasMap: false })).toBe(expected);
  });
});

describe('mediaFileName of a subtitle rendition (options.subtitles)', () => {
  it.each([
    ['https://cdn.test/subs/cue-3.jpg', 'segment', 'cue-3.vtt'],
    ['https://cdn.test/subs/3', 'segment', '3.vtt'],
    ['https://cdn.test/subs/cue-3.webvtt', 'segment', 'cue-3.webvtt'],
    ['https://cdn.test/subs/cue-3.vtt?t=1', 'segment', 'cue-3.vtt'],
    ['https://cdn.test/subs/cue-3.m4s', 'segment', 'cue-3.m4s'],
    ['https://cdn.test/subs/index.txt', 'playlist', 'index.m3u8'],
  ] as const)('mediaFileName(%j as %s, { subtitles: true }) → %j', (url, kind, expected) => {
    expect(mediaFileName({ url: new URL(url), kind, hasMap: false }, { subtitles: true })).toBe(expected);
  });
});
