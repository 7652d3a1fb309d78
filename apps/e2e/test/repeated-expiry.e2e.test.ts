import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { cdnRequestsOf, episode, startStack, type Stack } from './support/stack';
import { firstFrameDifference, framemd5 } from './support/tools';

// A CDN whose URLs expire after three requests each: every URL the resolver hands out goes stale
// during one playback, again and again. ffmpeg plays the HLS (fMP4) and DASH fixtures through the
// proxy and must decode the frames it decodes straight from the CDN; the proxy re-resolves at
// every expiry, the second and later ones included (a link relocated into a generation that then
// expired too). `STRM_RESOLVER_MIN_REFRESH_MS=0`: the default spaces re-resolutions of one episode
// 5 s apart, longer than these tokens live.
const EXPIRE_AFTER_USES = 3;
const episodes = {
  hls: episode('repeated-expiry', 1, 'hls-fmp4/master.m3u8', { faults: { expireAfterUses: EXPIRE_AFTER_USES } }),
  dash: episode('repeated-expiry', 2, 'dash-template/manifest.mpd', { faults: { expireAfterUses: EXPIRE_AFTER_USES } }),
};

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ catalog: Object.values(episodes), env: { STRM_RESOLVER_MIN_REFRESH_MS: '0' } });
});
afterAll(async () => {
  await stack?.close();
});

describe('a CDN whose every URL expires after three requests', () => {
  test.each(Object.entries(episodes))('ffmpeg plays %s through the proxy across repeated expiries', async (_name, entry) => {
    const direct = await framemd5(stack.cdn.issue(entry.path));
    const proxied = await framemd5(stack.entryUrl(entry));
    const upstream = cdnRequestsOf(stack, entry);
    const expired = upstream.filter((request) => request.fault === 'expired-uses');
    const hits = stack.resolver.hits(entry);
    console.log(
      `repeated expiry ${entry.path}: ${proxied.frames.length} frames through the proxy, ${direct.frames.length} directly; resolver ${JSON.stringify(hits)}; ` +
        `${expired.length} expired answers; CDN: ${upstream.map((r) => `${r.resource.split('/').pop()}:${r.status}`).join(' ')}`,
    );
    expect(direct.frames.length).toBeGreaterThan(0);
    expect(firstFrameDifference(direct, proxied), `${entry.path}: framemd5 differs`).toBeUndefined();
    // Expired more than once in one playback, and every expiry was followed by a fresh URL.
    expect(expired.length).toBeGreaterThanOrEqual(2);
    expect(hits.refresh).toBeGreaterThanOrEqual(2);
    expect(new Set(expired.map((request) => request.token)).size, 'expiries under distinct URLs: the second and later ones too').toBe(expired.length);
  });
});
