import { statSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { fixtureMediaDir, mediaFixtures } from '../src/fixtures';
import { cdnRequestsOf, episode, startStack, type Stack } from './support/stack';

// Kodi sends HEAD to an entry URL before it plays, and picks its player by the Content-Type:
// an HLS entry must say it is a playlist (even when the CDN disguises it as text/plain under .txt),
// and media must say its length, without the proxy pulling the body from the CDN.
const BIG = 2 * 1024 ** 3;
const catalog = [
  ...mediaFixtures.map((fixture, index) => episode('kodi', index + 1, fixture.path)),
  episode('kodi-disguised', 1, 'hls-ts/master.m3u8', { faults: { playlistPathSuffix: '.txt', playlistContentType: 'text/plain; charset=utf-8' } }),
  episode('kodi-octet', 1, 'hls-byterange/index.m3u8', { faults: { playlistContentType: 'application/octet-stream', playlistPathSuffix: '.txt' } }),
  episode('kodi-big', 1, `big/${BIG}.bin`),
];

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ catalog });
});
afterAll(async () => {
  await stack?.close();
});

async function head(url: string) {
  const response = await request(url, { method: 'HEAD' });
  await response.body.dump();
  return response;
}

/** What the proxy pulled from the CDN for one episode: requests and body bytes. */
function cdnTraffic(entry: (typeof catalog)[number]) {
  const requests = cdnRequestsOf(stack, entry);
  return { requests: requests.map((r) => `${r.method} ${r.resource}${r.range ? ` ${r.range}` : ''}`), bytes: requests.reduce((sum, r) => sum + r.bytesSent, 0) };
}

describe('HEAD of an entry URL (Kodi)', () => {
  test.each(mediaFixtures.filter((f) => f.kind === 'hls').map((fixture) => [fixture.name, catalog[mediaFixtures.indexOf(fixture)]!] as const))(
    'HLS %s: the playlist type, no-store, and not a byte of any body from the CDN',
    async (name, entry) => {
      const response = await head(stack.entryUrl(entry));
      const traffic = cdnTraffic(entry);
      console.log(`kodi HEAD ${name}: ${response.statusCode} ${response.headers['content-type']}; CDN: ${traffic.requests.join(', ')} (${traffic.bytes} body bytes)`);
      expect(response.statusCode).toBe(200);
      expect(response.headers['content-type']).toBe('application/vnd.apple.mpegurl');
      expect(response.headers['cache-control']).toBe('no-store');
      expect(traffic.requests.every((r) => r.startsWith('HEAD '))).toBe(true);
      expect(traffic.bytes).toBe(0);
    },
  );

  test.each(mediaFixtures.filter((f) => f.kind === 'mp4').map((fixture) => [fixture.name, fixture, catalog[mediaFixtures.indexOf(fixture)]!] as const))(
    'MP4 %s: its length and type from one HEAD to the CDN, no body',
    async (name, fixture, entry) => {
      const response = await head(stack.entryUrl(entry));
      const traffic = cdnTraffic(entry);
      console.log(`kodi HEAD ${name}: ${response.statusCode} ${response.headers['content-type']} ${response.headers['content-length']} bytes; CDN: ${traffic.requests.join(', ')} (${traffic.bytes} body bytes)`);
      expect(response.statusCode).toBe(200);
      expect(response.headers['content-type']).toBe('video/mp4');
      expect(response.headers['content-length']).toBe(String(statSync(join(fixtureMediaDir, fixture.path)).size));
      expect(response.headers['accept-ranges']).toBe('bytes');
      expect(traffic.requests).toEqual([`HEAD ${fixture.path}`]);
      expect(traffic.bytes).toBe(0);
    },
  );

  test('a 2 GiB file served as application/octet-stream: its length from the HEAD alone', async () => {
    const entry = catalog.find((e) => e.slug === 'kodi-big')!;
    const response = await head(stack.entryUrl(entry));
    const traffic = cdnTraffic(entry);
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-length']).toBe(String(BIG));
    expect(traffic.requests).toEqual([`HEAD big/${BIG}.bin`]);
    expect(traffic.bytes).toBe(0);
  });

  test.each([
    ['text/plain under .txt', 'kodi-disguised'],
    ['application/octet-stream under .txt', 'kodi-octet'],
  ])('a playlist disguised as %s: the playlist type, from at most 4 KiB read with a ranged GET (room for a DASH manifest\'s XML declaration and comments)', async (_label, slug) => {
    const entry = catalog.find((e) => e.slug === slug)!;
    const response = await head(stack.entryUrl(entry));
    const traffic = cdnTraffic(entry);
    console.log(`kodi HEAD ${slug}: ${response.statusCode} ${response.headers['content-type']}; CDN: ${traffic.requests.join(', ')} (${traffic.bytes} body bytes)`);
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('application/vnd.apple.mpegurl');
    expect(traffic.requests).toHaveLength(2);
    expect(traffic.requests[1]).toMatch(/^GET .* bytes=0-4095$/);
    expect(traffic.bytes).toBeLessThanOrEqual(4096);
  });
});
