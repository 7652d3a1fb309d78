import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { playerCases } from './support/player-cases';
import { decodedDifference, describeDecode, mpvDecode } from './support/players';
import { cdnRequestsOf, episode, startStackWithLargeMp4s, type Stack } from './support/stack';
import { startTamperingFront } from './support/tamper';
import { redact } from './support/tools';

// mpv, as a desktop player opens a .strm URL: its own demuxers, stream cache, HLS variant choice
// and seeks. Its encoding mode writes the decoded pictures and samples as framemd5 (see
// support/players.ts); through the proxy they must be the frames mpv decodes from the CDN.
const catalog = playerCases.map((playerCase, index) => episode('mpv', index + 1, playerCase.path));

let stack: Stack;
beforeAll(async () => {
  stack = await startStackWithLargeMp4s(catalog);
  // Encoding the 8-second MP4s can outlast the default 10 s hook timeout on a loaded runner.
}, 60_000);
afterAll(async () => {
  await stack?.close();
});

const plays = playerCases.flatMap((playerCase, index) =>
  (playerCase.variants ? (['max', 'min'] as const) : [undefined]).map((hlsBitrate) => [`${playerCase.name}${hlsBitrate ? ` --hls-bitrate=${hlsBitrate}` : ''}`, playerCase, catalog[index]!, hlsBitrate] as const),
);

/**
 * ffmpeg 5.1's HLS demuxer (which mpv 0.35 uses) finds no packet after a seek into fMP4 segments:
 * mpv exits with "no data written" straight from the CDN too. Through the proxy it must fail the
 * same way, and decode the same frames once a newer FFmpeg seeks there.
 */
const seekLimits: Record<string, string> = { 'hls-fmp4': 'ffmpeg 5.1 hls demuxer: no packet after a seek into fMP4 segments' };

describe('mpv decodes the same frames through the proxy as from the CDN', () => {
  test.each(plays)('mpv plays %s', async (_label, playerCase, entry, hlsBitrate) => {
    const directUrl = stack.cdn.issue(playerCase.path);
    const proxiedUrl = stack.entryUrl(entry);
    const options = hlsBitrate ? { hlsBitrate } : {};
    const cdnFrom = stack.cdn.requests.length;
    const direct = await mpvDecode(directUrl, options);
    const proxied = await mpvDecode(proxiedUrl, options);
    const upstream = cdnRequestsOf(stack, entry).filter((request) => stack.cdn.requests.indexOf(request) >= cdnFrom);
    console.log(
      `mpv ${playerCase.name}${hlsBitrate ? ` (--hls-bitrate=${hlsBitrate})` : ''}: direct ${describeDecode(direct)}; proxied ${describeDecode(proxied)}; ` +
        `${upstream.length} CDN requests by the proxy (${[...new Set(upstream.map((request) => request.resource.split('/').pop()))].join(' ')})`,
    );
    expect(direct.run.code, `mpv directly:\n${direct.run.stderr}`).toBe(0);
    expect(proxied.run.code, `mpv through the proxy (${redact(proxiedUrl)}):\n${redact(proxied.run.stderr)}`).toBe(0);
    expect(decodedDifference(direct, proxied)).toBeUndefined();
    expect(direct.video.length, 'every picture decoded').toBeGreaterThanOrEqual(playerCase.seconds * 25 - 2);
    if (playerCase.path.startsWith('hls-ts/video')) expect(direct.audio).toEqual([]);
    else expect(direct.audio.length, 'audio decoded').toBeGreaterThan(0);
    if (hlsBitrate) expect(proxied.size).toBe(hlsBitrate === 'max' ? '320x180' : '160x90');
    expect(upstream.filter((request) => request.status >= 400).map((request) => `${request.status} ${request.resource}`)).toEqual([]);
  });

  test.each(playerCases.map((playerCase, index) => [playerCase.name, playerCase, catalog[index]!] as const))('mpv --start seeks in %s', async (name, playerCase, entry) => {
    const directUrl = stack.cdn.issue(playerCase.path);
    const proxiedUrl = stack.entryUrl(entry);
    const cdnFrom = stack.cdn.requests.length;
    const direct = await mpvDecode(directUrl, { start: playerCase.seekTo });
    const proxied = await mpvDecode(proxiedUrl, { start: playerCase.seekTo });
    const upstream = cdnRequestsOf(stack, entry).filter((request) => stack.cdn.requests.indexOf(request) >= cdnFrom);
    const ranges = upstream.filter((request) => request.range !== undefined).map((request) => `${request.range}→${request.status}`);
    console.log(
      `mpv --start=${playerCase.seekTo} ${name}: direct ${describeDecode(direct)}; proxied ${describeDecode(proxied)}` +
        (ranges.length > 0 ? `; ranges through the proxy ${ranges.join(' ')}` : '') +
        (seekLimits[name] ? `; known limit: ${seekLimits[name]}` : ''),
    );
    expect(proxied.run.code, redact(proxied.run.stderr)).toBe(direct.run.code);
    expect(decodedDifference(direct, proxied)).toBeUndefined();
    if (seekLimits[name] === undefined) {
      expect(direct.run.code, direct.run.stderr).toBe(0);
      const expected = (playerCase.seconds - playerCase.seekTo) * 25;
      // The decode starts at the keyframe before the seek point (one a second), so at most 25 frames more.
      expect(direct.video.length).toBeGreaterThanOrEqual(expected - 2);
      expect(direct.video.length).toBeLessThanOrEqual(expected + 26);
    }
  });

  test('mpv notices a proxy that corrupts a segment (the comparison can fail)', async () => {
    const entry = catalog[0]!;
    const front = await startTamperingFront(stack.proxy.url, { corrupt: (path) => path.endsWith('/seg1.ts') });
    try {
      const direct = await mpvDecode(stack.cdn.issue(playerCases[0]!.path));
      const tampered = await mpvDecode(front.via(stack.entryUrl(entry)));
      const difference = decodedDifference(direct, tampered);
      console.log(`mpv through a front corrupting seg1.ts: ${describeDecode(tampered)}; ${difference}`);
      expect(front.requests.filter((request) => request.corrupted).length, 'the front corrupted seg1.ts').toBeGreaterThan(0);
      expect(difference).toBeDefined();
    } finally {
      await front.close();
    }
  });
});
