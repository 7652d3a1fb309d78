import { createHash } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { mediaFixtures } from '../src/fixtures';
import { mediaDirWithLongUris } from './support/media';
import { walkBoth } from './support/playlists';
import { cdnRequestsOf, episode, startStack, type Stack } from './support/stack';
import { firstFrameDifference, framemd5 } from './support/tools';

// Real CDNs sign every segment URL with a long query, and hosters want a Cookie and a User-Agent.
// With every playlist URI 2048 bytes long and 1 KB of resolver headers, each rewritten URI must
// still be one FFmpeg reads whole (its URL and line buffers are 4096 bytes), and ffmpeg must
// decode the same frames through the proxy as from the CDN directly.
const UPSTREAM_URI_BYTES = 2048;
const hlsFixtures = mediaFixtures.filter((fixture) => fixture.kind === 'hls');

/** 1 KB of headers in all (names, `: ` and values), the Cookie random. */
function resolverHeaders(): Record<string, string> {
  const headers: Record<string, string> = {
    Referer: 'https://hoster.example/e/0123456789abcdef',
    'User-Agent': 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
  };
  const used = Object.entries(headers).reduce((sum, [name, value]) => sum + name.length + 2 + value.length, 0) + 'Cookie: '.length;
  let cookie = '';
  for (let block = 0; cookie.length < 1024 - used; block++) {
    for (const byte of createHash('sha256').update(`cookie:${block}`).digest()) if (cookie.length < 1024 - used) cookie += String.fromCharCode(33 + (byte % 94));
  }
  return { ...headers, Cookie: cookie.replace(/[;"\\]/g, '_') };
}
const HEADERS = resolverHeaders();
const catalog = hlsFixtures.map((fixture, index) => episode('long', index + 1, fixture.path.replace(/^([^/]+)\//, '$1-long/'), { headers: HEADERS }));

let mediaDir: string;
let stack: Stack;
beforeAll(async () => {
  mediaDir = await mediaDirWithLongUris(UPSTREAM_URI_BYTES, hlsFixtures.map((fixture) => fixture.name));
  stack = await startStack({ catalog, mediaDir });
});
afterAll(async () => {
  await stack?.close();
  if (mediaDir) await rm(mediaDir, { recursive: true, force: true });
});

describe(`${UPSTREAM_URI_BYTES}-byte upstream URIs and 1 KB of resolver headers`, () => {
  test.each(hlsFixtures.map((fixture, index) => [fixture.name, catalog[index]!] as const))('%s: every rewritten URI and line fits FFmpeg, and the frames are the same', async (name, entry) => {
    const directUrl = stack.cdn.issue(entry.path);
    const { resources, playlists } = await walkBoth(stack.entryUrl(entry), directUrl);
    const upstreamLongest = Math.max(...resources.map((resource) => Buffer.byteLength(resource.directUrl)));
    const uriLongest = Math.max(...resources.map((resource) => Buffer.byteLength(resource.proxiedUrl)));
    const lineLongest = Math.max(...playlists.flatMap((playlist) => playlist.text.split('\n').map((line) => Buffer.byteLength(line))));

    const direct = await framemd5(directUrl);
    const proxied = await framemd5(stack.entryUrl(entry));
    console.log(
      `long URIs ${name}: upstream URIs up to ${upstreamLongest} bytes, headers ${Object.entries(HEADERS).reduce((sum, [k, v]) => sum + k.length + 2 + v.length, 0)} bytes → ` +
        `rewritten URIs up to ${uriLongest} bytes, playlist lines up to ${lineLongest} bytes; ${proxied.frames.length} frames, as directly`,
    );
    expect(upstreamLongest).toBeGreaterThan(UPSTREAM_URI_BYTES - 50);
    expect(upstreamLongest).toBeLessThanOrEqual(UPSTREAM_URI_BYTES);
    expect(uriLongest).toBeLessThan(4096);
    expect(lineLongest).toBeLessThan(4096);
    expect(firstFrameDifference(direct, proxied), `${name}: framemd5 differs`).toBeUndefined();
    expect(direct.frames.length).toBeGreaterThan(100);
    const upstream = cdnRequestsOf(stack, entry);
    expect(upstream.filter((request) => request.status >= 400)).toEqual([]);
  });
});
