import { describe, expect, it } from 'vitest';
import { detectPlaylist, isPlaylistContentType, isPlaylistPath, sniffPlaylist } from '../src/index';

const bytes = (text: string) => new TextEncoder().encode(text);

describe('isPlaylistContentType', () => {
  it.each([
    ['application/vnd.apple.mpegurl', true],
    ['Application/VND.Apple.MpegURL; charset=UTF-8', true],
    ['application/x-mpegURL', true],
    ['audio/mpegurl', true],
    [' audio/x-mpegurl ;q=1', true],
    ['text/plain', false],
    ['application/octet-stream', false],
    ['video/mp2t', false],
    ['application/vnd.apple.mpegurl2', false],
    ['', false],
    [undefined, false],
    [null, false],
  ])('isPlaylistContentType(%j) → %s', (type, expected) => {
    expect(isPlaylistContentType(type)).toBe(expected);
  });
});

describe('isPlaylistPath', () => {
  it.each([
    ['https://cdn.test/a/index.m3u8', true],
    ['https://cdn.test/a/INDEX.M3U8?token=1', true],
    ['https://cdn.test/a/list.m3u#frag', true],
    ['/relative/path/x.m3u8', true],
    ['https://cdn.test/a/index.txt?f=a.m3u8', false],
    ['https://cdn.test/a/seg.ts', false],
    ['https://cdn.test/a.m3u8/seg.ts', false],
    [new URL('https://cdn.test/v.m3u8'), true],
  ])('isPlaylistPath(%j) → %s', (url, expected) => {
    expect(isPlaylistPath(url)).toBe(expected);
  });
});

describe('sniffPlaylist', () => {
  it.each([
    ['#EXTM3U\n', 'playlist'],
    ['#EXTM3U', 'playlist'],
    ['\uFEFF#EXTM3U', 'playlist'],
    [' \r\n\t#EXTM3U\n', 'playlist'],
    ['', 'undecided'],
    ['#', 'undecided'],
    ['#EXTM3', 'undecided'],
    ['\n\n', 'undecided'],
    ['\uFEFF', 'undecided'],
    ['#EXTINF:4,', 'not-playlist'],
    ['<html>', 'not-playlist'],
    ['{"a":1}', 'not-playlist'],
  ])('sniffPlaylist(%j) → %s', (head, expected) => {
    expect(sniffPlaylist(bytes(head))).toBe(expected);
  });

  it.each([
    [[0xef], 'undecided'],
    [[0xef, 0xbb], 'undecided'],
    [[0xef, 0x00], 'not-playlist'],
    [[0x47, 0x40, 0x00, 0x10], 'not-playlist'],
    [[0x00, 0x00, 0x00, 0x20, 0x66, 0x74, 0x79, 0x70], 'not-playlist'],
  ])('sniffPlaylist(bytes %j) → %s', (head, expected) => {
    expect(sniffPlaylist(Uint8Array.from(head))).toBe(expected);
  });

  it('more than 1024 bytes of leading whitespace is not a playlist (sniffing never buffers a body)', () => {
    expect(sniffPlaylist(bytes(' '.repeat(1024)))).toBe('undecided');
    expect(sniffPlaylist(bytes(' '.repeat(1025)))).toBe('not-playlist');
  });
});

describe('detectPlaylist', () => {
  it.each([
    [{ contentType: 'application/vnd.apple.mpegurl' }, 'playlist'],
    [{ contentType: 'text/plain', url: 'https://cdn.test/master.m3u8?x=1' }, 'playlist'],
    [{ contentType: 'text/plain', url: 'https://cdn.test/list.txt' }, 'undecided'],
    [{ contentType: 'application/octet-stream', url: 'https://cdn.test/list.txt', head: bytes('#EXTM3U\n') }, 'playlist'],
    [{ contentType: 'video/mp2t', url: 'https://cdn.test/seg.jpg', head: Uint8Array.of(0x47) }, 'not-playlist'],
    [{ head: bytes('#EXT') }, 'undecided'],
  ])('detectPlaylist(%j) → %s', (input, expected) => {
    expect(detectPlaylist(input)).toBe(expected);
  });
});
