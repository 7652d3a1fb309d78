import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { fixtureMediaDir } from '../src/fixtures';
import { cdnRequestsOf, episode, startStack, type Stack } from './support/stack';
import { firstFrameDifference, framemd5, redact } from './support/tools';

// The VPN problem: the resolver hands out URLs bound to the address that asked for them. The
// proxy resolves and fetches from its own address (here 127.0.0.1, the "VPN" side), so a media
// server elsewhere (here 127.0.0.2) gets 403 from the CDN directly and plays through the proxy.
const CLIENT_ADDRESS = '127.0.0.2';
const mp4 = episode('vpn', 1, 'mp4-faststart/video.mp4', { bindToRequester: true });
/** Resolved by the test itself, as the proxy's side would: the URL it gets is bound to 127.0.0.1. */
const resolvedByHand = episode('vpn', 3, 'mp4-faststart/video.mp4', { bindToRequester: true });
const hls = episode('vpn', 2, 'hls-ts/master.m3u8', {
  bindToRequester: true,
  faults: { requireReferer: 'https://aniworld.to/' },
  headers: { Referer: 'https://aniworld.to/' },
});

let stack: Stack;
// undici 7 takes the local address as an Agent option (`connect.localAddress` is not used).
const fromOtherAddress = new Agent({ localAddress: CLIENT_ADDRESS });
beforeAll(async () => {
  stack = await startStack({ catalog: [mp4, hls, resolvedByHand] });
});
afterAll(async () => {
  await fromOtherAddress.close();
  await stack?.close();
});

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

describe(`a URL bound to the resolver's caller: 403 directly from ${CLIENT_ADDRESS}, plays through the proxy`, () => {
  test(`GET <url resolved from 127.0.0.1> from ${CLIENT_ADDRESS} is refused by the CDN, from 127.0.0.1 it is not`, async () => {
    const resolved = await request(`${stack.resolver.url}/resolve?site=aniworld.to&slug=vpn&s=1&e=3&lang=German%20Dub`);
    const { url } = (await resolved.body.json()) as { url: string };
    const elsewhere = await request(url, { dispatcher: fromOtherAddress });
    const body = await elsewhere.body.text();
    const logged = stack.cdn.requests.at(-1)!;
    const here = await request(url);
    await here.body.dump();
    console.log(`vpn: ${url} from ${logged.remoteAddress} → ${elsewhere.statusCode} (${logged.fault}, "${body.trim()}"); from 127.0.0.1 → ${here.statusCode}`);
    expect(logged.remoteAddress).toBe(CLIENT_ADDRESS);
    expect([elsewhere.statusCode, logged.fault]).toEqual([403, 'wrong-address']);
    expect(here.statusCode).toBe(200);
  });

  test(`GET <entry URL> from ${CLIENT_ADDRESS} through the proxy: 200 with the file's exact bytes, every CDN request from 127.0.0.1`, async () => {
    const entryUrl = stack.entryUrl(mp4);
    const logFrom = stack.logs.length;
    const response = await request(entryUrl, { dispatcher: fromOtherAddress });
    const body = Buffer.from(await response.body.arrayBuffer());
    const file = await readFile(join(fixtureMediaDir, mp4.path));
    const upstream = cdnRequestsOf(stack, mp4);
    const [proxyLine] = await stack.requestLinesLogged(1, logFrom);
    console.log(
      `vpn: ${CLIENT_ADDRESS} → proxy ${redact(entryUrl)} → ${response.statusCode}, ${body.length} B sha256 ${sha256(body).slice(0, 16)} ` +
        `(file ${file.length} B sha256 ${sha256(file).slice(0, 16)}); CDN saw ${upstream.map((r) => `${r.remoteAddress} ${r.status}`).join(', ')}; ` +
        `resolver called from ${[...new Set(stack.resolver.requests.map((r) => r.remoteAddress))].join(', ')}`,
    );
    expect(response.statusCode).toBe(200);
    expect(sha256(body), `bytes of ${mp4.path} through the proxy`).toBe(sha256(file));
    expect(upstream.length).toBeGreaterThan(0);
    expect(upstream.map((r) => `${r.remoteAddress} ${r.status}`)).toEqual(upstream.map(() => '127.0.0.1 200'));
    expect(proxyLine?.bytes).toBe(file.length);
  });

  test('ffmpeg decodes the bound HLS fixture (keys, renditions, Referer) through the proxy to the same framemd5 as directly from the bound address', async () => {
    const direct = await framemd5(stack.cdn.issue(hls.path, { bindToAddress: '127.0.0.1' }), { input: ['-headers', 'Referer: https://aniworld.to/\r\n'] });
    const proxied = await framemd5(stack.entryUrl(hls));
    const upstream = cdnRequestsOf(stack, hls);
    console.log(
      `vpn: hls-ts bound to the proxy's address: ${proxied.frames.length} frames through the proxy, ${direct.frames.length} directly; ` +
        `${upstream.length} CDN requests by the proxy, statuses ${[...new Set(upstream.map((r) => r.status))].join(',')}`,
    );
    expect(firstFrameDifference(direct, proxied), 'hls-ts bound: framemd5 differs').toBeUndefined();
    // ffmpeg asks for segments with `Range: bytes=0-`, hence 206.
    expect(upstream.map((r) => `${r.remoteAddress} ${r.status < 300 ? 'ok' : r.status} ${r.resource}`)).toEqual(upstream.map((r) => `127.0.0.1 ok ${r.resource}`));
  });
});
