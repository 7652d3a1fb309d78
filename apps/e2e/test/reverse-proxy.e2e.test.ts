import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { mediaFixtures } from '../src/fixtures';
import { startStaticStreamRelay, type StaticStreamRelay } from '../src/media-server-relay';
import { startNginxFront, readmeNginxSnippet, type FrontLogLine, type NginxFront } from './support/nginx';
import { playlistUris } from './support/playlists';
import { cdnRequestsOf, cdnRequestsUnder, episode, failedResources, startStack, type RequestLine, type Stack } from './support/stack';
import { firstFrameDifference, framemd5, redact } from './support/tools';

// The household's other path: strm behind nginx under /anime/, configured with exactly the
// README's snippet. ffmpeg plays every fixture through nginx; every request of the playback must
// go through nginx (compared between nginx's access log and the proxy's log), and decode to the
// same frames as the CDN read directly.
const catalog = mediaFixtures.map((fixture, index) => episode('front', index + 1, fixture.path));

let stack: Stack;
let front: NginxFront;
let relay: StaticStreamRelay;
beforeAll(async () => {
  stack = await startStack({ catalog });
  front = await startNginxFront(await readmeNginxSnippet(), new URL(stack.proxy.url).host);
  relay = await startStaticStreamRelay();
});
afterAll(async () => {
  await relay?.close();
  await front?.close();
  await stack?.close();
});

/** The path as the proxy logs it: no query, the token of /strm/proxy cut to 8 characters. */
const asLogged = (path: string) => path.split('?')[0]!.replace(/^\/strm\/proxy\/([^/]{8})[^/]*/, '/strm/proxy/$1…');
const sorted = (paths: string[]) => [...paths].sort();

/**
 * Waits until the requests nginx passed on (prefix stripped) and the requests the proxy served are
 * the same list, or until 10 s passed; each side logs a request when it ends, a moment after the
 * client has read its last byte. Returns both lists for the assertion.
 */
async function settledLogs(fromProxy: number, fromFront: number): Promise<{ viaFront: string[]; served: string[]; front: FrontLogLine[] }> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const frontLines = (await front.accessLog()).slice(fromFront);
    const viaFront = sorted(frontLines.filter((line) => line.upstream !== '-').map((line) => asLogged(line.uri.replace(/^\/anime/, ''))));
    const served = sorted(stack.requestLines(fromProxy).map((line: RequestLine) => line.path));
    const remaining = deadline - Date.now();
    if (JSON.stringify(viaFront) === JSON.stringify(served) || remaining <= 0) return { viaFront, served, front: frontLines };
    await Promise.race([
      front.accessLogChanged(),
      stack.requestLinesLogged(served.length + 1, fromProxy, remaining).catch(() => undefined),
      new Promise((resolve) => setTimeout(resolve, remaining).unref()),
    ]);
  }
}

describe("behind nginx under /anime/ with the README's snippet, ffmpeg decodes every fixture to the same framemd5, and nothing bypasses nginx", () => {
  test.each(mediaFixtures.map((fixture, index) => [fixture.name, fixture, catalog[index]!] as const))('%s', async (name, fixture, entry) => {
    const entryUrl = stack.entryUrl(entry).replace(stack.proxy.url, `${front.origin}/anime`);
    const fromProxy = stack.logs.length;
    const fromFront = (await front.accessLog()).length;

    if (fixture.kind === 'hls') {
      const playlist = await request(entryUrl);
      const uris = playlistUris(await playlist.body.text()).map((uri) => uri.uri);
      expect(playlist.statusCode).toBe(200);
      expect(playlist.headers['content-type']).toBe('application/vnd.apple.mpegurl');
      for (const uri of uris) expect(uri.startsWith(`${front.origin}/anime/strm/proxy/`), `${uri.slice(0, 80)} points at nginx under /anime`).toBe(true);
    }

    const directUrl = stack.cdn.issue(fixture.path);
    const direct = await framemd5(directUrl);
    const fronted = await framemd5(entryUrl);
    const { viaFront, served, front: frontLines } = await settledLogs(fromProxy, fromFront);
    console.log(
      `nginx ${name}: ${direct.frames.length} frames direct vs ${fronted.frames.length} through nginx (${redact(entryUrl)}); ` +
        `nginx passed ${viaFront.length} requests (${[...new Set(frontLines.map((line) => line.status))].join(', ')}), the proxy served ${served.length}`,
    );
    expect(firstFrameDifference(direct, fronted), `${name}: framemd5 differs`).toBeUndefined();
    expect(direct.frames.length).toBeGreaterThan(fixture.kind === 'dash' ? 40 : 100);
    expect(served.length).toBeGreaterThan(0);
    // Every request the proxy served came through nginx, and nginx passed nothing else.
    expect(served, 'requests that reached the proxy without nginx').toEqual(viaFront);
    expect(frontLines.every((line) => line.uri.startsWith('/anime/strm/'))).toBe(true);
    // Only what failed directly fails through nginx (ffmpeg's request past the end of a DASH template).
    const failedDirectly = cdnRequestsUnder(stack, directUrl).filter((r) => r.status >= 400);
    expect(frontLines.filter((line) => line.status >= 400).map((line) => line.status)).toEqual(failedDirectly.map((r) => r.status));
    expect(failedResources(cdnRequestsOf(stack, entry))).toEqual(failedResources(failedDirectly));
  });
});

describe('both at once: a Jellyfin-like relay fetches the .strm URL through nginx', () => {
  test.each(mediaFixtures.map((fixture, index) => [fixture.name, fixture, catalog[index]!] as const))('%s', async (name, fixture, entry) => {
    const relayUrl = relay.add(stack.entryUrl(entry).replace(stack.proxy.url, `${front.origin}/anime`));
    const fromProxy = stack.logs.length;
    const fromFront = (await front.accessLog()).length;
    const direct = await framemd5(stack.cdn.issue(fixture.path));
    const relayed = await framemd5(relayUrl);
    const { viaFront, served } = await settledLogs(fromProxy, fromFront);
    console.log(`nginx + relay ${name}: ${relayed.frames.length} frames as directly; nginx passed ${viaFront.length} requests, the proxy served ${served.length}`);
    expect(firstFrameDifference(direct, relayed), `${name}: framemd5 differs`).toBeUndefined();
    expect(served, 'requests that reached the proxy without nginx').toEqual(viaFront);
    expect(relay.requests.filter((r) => r.status === 404)).toEqual([]);
  });
});
