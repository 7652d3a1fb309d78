import { describe, expect, test } from 'vitest';
import { parseDeliveryDirectives, TargetDurations, PlaylistScan, withDeliveryDirectives } from '../src/delivery-directives';

// RFC 8216bis §6.2.5: the Delivery Directives of a playlist request, and where they go upstream.

describe('parseDeliveryDirectives', () => {
  test.each([
    ['', {}],
    ['?_HLS_msn=273', { msn: 273 }],
    ['_HLS_msn=273&_HLS_part=0', { msn: 273, part: 0 }],
    ['?_HLS_skip=v2&_HLS_msn=5&_HLS_part=3', { msn: 5, part: 3, skip: 'v2' }],
    ['?_HLS_skip=YES', { skip: 'YES' }],
    ['?CMCD=bl%3D100&_HLS_pathway=b&_HLS_msn=1', { msn: 1 }],
  ])('parseDeliveryDirectives(%j)', (query, expected) => {
    expect(parseDeliveryDirectives(query)).toEqual(expected);
  });
});

describe('withDeliveryDirectives', () => {
  test.each([
    ['https://cdn.example/a.m3u8', { msn: 7 }, 'https://cdn.example/a.m3u8?_HLS_msn=7'],
    ['https://cdn.example/a.m3u8?tok=x%2Fy', { msn: 7, part: 1, skip: 'YES' as const }, 'https://cdn.example/a.m3u8?tok=x%2Fy&_HLS_msn=7&_HLS_part=1&_HLS_skip=YES'],
    ['https://cdn.example/a.m3u8?_HLS_msn=1&tok=x', { msn: 9 }, 'https://cdn.example/a.m3u8?tok=x&_HLS_msn=9'],
    ['https://cdn.example/a.m3u8?_HLS_msn=1', {}, 'https://cdn.example/a.m3u8?_HLS_msn=1'],
  ])('withDeliveryDirectives(%j, %j)', (url, directives, expected) => {
    expect(withDeliveryDirectives(url, directives)).toBe(expected);
  });
});

describe('the wait of a blocking reload', () => {
  test('PlaylistScan finds EXT-X-TARGETDURATION split across chunks, only on a whole line', () => {
    const scan = new PlaylistScan();
    scan.push(Buffer.from('#EXTM3U\n#EXT-X-TARGETDURATION:1'));
    expect(scan.seconds).toBeUndefined();
    scan.push(Buffer.from('2\r\n#EXTINF:12,\n'));
    expect(scan.seconds).toBe(12);
  });

  test.each([
    ['#EXTM3U\n#EXTINF:4,\na.ts\n#EXT-X-ENDLIST\n', true],
    ['#EXTM3U\r\n#EXTINF:4,\r\na.ts\r\n#EXT-X-ENDLIST\r\n\r\n', true],
    ['#EXTM3U\n#EXTINF:4,\na.ts\n#EXT-X-ENDLIST', true],
    ['#EXTM3U\n#EXTINF:4,\na.ts\n', false],
    ['#EXTM3U\n#EXT-X-ENDLIST\n#EXTINF:4,\na.ts\n', false],
    ['#EXTM3U\n#EXTINF:4,\nnot-#EXT-X-ENDLIST\n', false],
  ])('PlaylistScan.ended of %j, read in 5-byte chunks: %s', (text, ended) => {
    const scan = new PlaylistScan();
    for (let at = 0; at < text.length; at += 5) scan.push(Buffer.from(text.slice(at, at + 5)));
    expect(scan.ended).toBe(ended);
  });

  test('TargetDurations: the upstream timeout plus three target durations, 10 s assumed for a playlist not read yet', () => {
    const durations = new TargetDurations();
    durations.remember('https://cdn.example/a.m3u8', 4);
    expect(durations.blockingTimeoutMs('https://cdn.example/a.m3u8', 15_000)).toBe(27_000);
    expect(durations.blockingTimeoutMs('https://cdn.example/b.m3u8', 15_000)).toBe(45_000);
  });
});
