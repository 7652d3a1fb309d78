import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { mediaFixtures } from '../src/fixtures';
import { startStaticStreamRelay, type StaticStreamRelay } from '../src/media-server-relay';
import { playlistUris } from './support/playlists';
import { cdnRequestsOf, cdnRequestsUnder, episode, failedResources, startStack, type Stack } from './support/stack';
import { firstFrameDifference, framemd5, redact } from './support/tools';

// Jellyfin's "static" remote stream: the media server fetches the .strm URL itself and copies the
// body to its client under its own URL (/Videos/{id}/stream?static=true). A playlist that reaches
// the player that way must still send it to the proxy for every URI, and decode to the same frames
// as the CDN read directly.
const catalog = mediaFixtures.map((fixture, index) => episode('relay', index + 1, fixture.path));

let stack: Stack;
let relay: StaticStreamRelay;
beforeAll(async () => {
  stack = await startStack({ catalog });
  relay = await startStaticStreamRelay();
});
afterAll(async () => {
  await relay?.close();
  await stack?.close();
});

describe('through a Jellyfin-like static-stream relay, ffmpeg decodes every fixture to the same framemd5 as directly', () => {
  test.each(mediaFixtures.map((fixture, index) => [fixture.name, fixture, catalog[index]!] as const))('%s', async (name, fixture, entry) => {
    const relayUrl = relay.add(stack.entryUrl(entry));
    const itemPath = new URL(relayUrl).pathname;
    const fromLog = stack.logs.length;

    if (fixture.kind === 'hls') {
      // What the player receives from the relay: every URI is absolute, at the proxy.
      const relayed = await request(relayUrl);
      const text = await relayed.body.text();
      expect(relayed.statusCode).toBe(200);
      expect(relayed.headers['content-type']).toBe('application/vnd.apple.mpegurl');
      const uris = playlistUris(text).map((uri) => uri.uri);
      expect(uris.length).toBeGreaterThan(0);
      for (const uri of uris) expect(uri.startsWith(`${stack.proxy.url}/strm/proxy/`), `${uri.slice(0, 80)} points at the proxy`).toBe(true);
    }

    const directUrl = stack.cdn.issue(fixture.path);
    const direct = await framemd5(directUrl);
    const relayed = await framemd5(relayUrl);
    const item = relay.requests.filter((r) => r.path.startsWith(itemPath.slice(0, itemPath.lastIndexOf('/'))));
    const proxied = stack.requestLines(fromLog);
    console.log(
      `relay ${name}: ${direct.frames.length} frames direct vs ${relayed.frames.length} relayed (${redact(relayUrl)}); ` +
        `the relay served ${item.length} requests (${[...new Set(item.map((r) => r.status))].join(', ')}), ` +
        `the proxy ${proxied.length} (${proxied.filter((line) => line.route === 'proxy').length} playlist URIs)`,
    );
    expect(firstFrameDifference(direct, relayed), `${name}: framemd5 differs`).toBeUndefined();
    expect(direct.frames.length).toBeGreaterThan(fixture.kind === 'dash' ? 40 : 100);
    // Nothing reached the relay but its one endpoint, and nothing there failed.
    expect(item.filter((r) => r.status !== 200 && r.status !== 206).map((r) => `${r.status} ${r.path}`)).toEqual([]);
    expect(relay.requests.filter((r) => r.status === 404).map((r) => r.path)).toEqual([]);
    if (fixture.kind === 'hls') expect(proxied.filter((line) => line.route === 'proxy').length).toBeGreaterThan(1);
    expect(failedResources(cdnRequestsOf(stack, entry))).toEqual(failedResources(cdnRequestsUnder(stack, directUrl)));
  });
});
