import { describe, expect, it } from 'vitest';
import { detectManifest, isManifestContentType, isManifestPath, MAX_SNIFF_BYTES, sniffManifest } from '../src/index';

const bytes = (text: string) => new TextEncoder().encode(text);

describe('detection', () => {
  it.each([
    ['application/dash+xml', true],
    ['Application/DASH+XML; charset=utf-8', true],
    ['application/xml', false],
    ['video/mp4', false],
    [undefined, false],
  ])('isManifestContentType(%j) is %s', (type, expected) => {
    expect(isManifestContentType(type)).toBe(expected);
  });

  it.each([
    ['https://cdn.test/a/manifest.mpd', true],
    ['https://cdn.test/a/MANIFEST.MPD?token=x', true],
    ['/rel/stream.mpd#t=3', true],
    ['https://cdn.test/a/seg.m4s?f=a.mpd', false],
    ['https://cdn.test/a/mpd', false],
  ])('isManifestPath(%j) is %s', (url, expected) => {
    expect(isManifestPath(url)).toBe(expected);
  });

  it.each([
    ['<MPD xmlns="urn:mpeg:dash:schema:mpd:2011">', 'manifest'],
    ['\uFEFF<?xml version="1.0" encoding="UTF-8"?>\n<!-- generated -->\n<MPD>', 'manifest'],
    ['<?xml version="1.0"?><!DOCTYPE MPD><mpd:MPD xmlns:mpd="urn:mpeg:dash:schema:mpd:2011">', 'manifest'],
    ['  \r\n<MPD/>', 'manifest'],
    ['<?xml version="1.0"?>', 'undecided'],
    ['<!-- long', 'undecided'],
    ['<MP', 'undecided'],
    ['<', 'undecided'],
    ['', 'undecided'],
    ['<MPDX>', 'not-manifest'],
    ['<html>', 'not-manifest'],
    ['#EXTM3U', 'not-manifest'],
    ['<?xml version="1.0"?><SmoothStreamingMedia>', 'not-manifest'],
  ])('sniffManifest(%j) is %s', (head, expected) => {
    expect(sniffManifest(bytes(head))).toBe(expected);
  });

  it('media is refused at its first byte; a comment that never ends is refused after MAX_SNIFF_BYTES', () => {
    expect(sniffManifest(Uint8Array.of(0x00, 0x00, 0x00, 0x18, 0x66, 0x74, 0x79, 0x70))).toBe('not-manifest');
    expect(sniffManifest(Uint8Array.of(0x47))).toBe('not-manifest');
    expect(sniffManifest(bytes(`<!--${'x'.repeat(MAX_SNIFF_BYTES)}`))).toBe('not-manifest');
    expect(sniffManifest(bytes(' '.repeat(MAX_SNIFF_BYTES + 1)))).toBe('not-manifest');
    expect(() => sniffManifest('<MPD>' as never)).toThrow(TypeError);
  });

  it('detectManifest: headers first, then the first bytes', () => {
    expect(detectManifest({ contentType: 'application/dash+xml' })).toBe('manifest');
    expect(detectManifest({ contentType: 'text/plain', url: 'https://cdn.test/a.mpd' })).toBe('manifest');
    expect(detectManifest({ contentType: 'text/plain', url: 'https://cdn.test/a.txt' })).toBe('undecided');
    expect(detectManifest({ contentType: 'text/xml', head: bytes('<MPD>') })).toBe('manifest');
    expect(detectManifest({ contentType: 'video/mp4', head: Uint8Array.of(0) })).toBe('not-manifest');
  });
});
