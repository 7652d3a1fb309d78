import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { playerCases } from './support/player-cases';
import { decodedDifference, describeDecode, vlcDecode, vlcSeekDecode } from './support/players';
import { cdnRequestsOf, cdnRequestsUnder, episode, startStackWithLargeMp4s, type Stack } from './support/stack';
import { startTamperingFront } from './support/tamper';
import { redact } from './support/tools';

// VLC (Debian's 3.0), run as `nobody` because it refuses root. Plays go through VLC's transcode
// chain into raw frames (exact and repeatable); seeks go through `--start-time` and the pictures
// its `yuv` video output shows (see support/players.ts). Through the proxy VLC must decode the
// frames it decodes from the CDN.
const catalog = playerCases.map((playerCase, index) => episode('vlc', index + 1, playerCase.path));

let stack: Stack;
beforeAll(async () => {
  stack = await startStackWithLargeMp4s(catalog);
  // Encoding the 8-second MP4s can outlast the default 10 s hook timeout on a loaded runner.
}, 60_000);
afterAll(async () => {
  await stack?.close();
});

const plays = playerCases.flatMap((playerCase, index) =>
  (playerCase.variants ? (['highest', 'lowest'] as const) : [undefined]).map(
    (adaptiveLogic) => [`${playerCase.name}${adaptiveLogic ? ` --adaptive-logic=${adaptiveLogic}` : ''}`, playerCase, catalog[index]!, adaptiveLogic] as const,
  ),
);

/**
 * The `yuv` output writes the pictures VLC shows as its clock reaches them: the very pictures its
 * decoder hands the transcode chain (checked: the 99 pictures of hls-fmp4 have the same md5 both
 * ways). Timing decides only the ends: the last picture is shown zero, one or two times (three
 * direct runs of hls-fmp4: 99, 101 and 99 pictures, differing only there), and after a seek the
 * first one is shown or not. Up to two pictures at each end may differ; all between must match.
 */
const SHOWN_SLACK = 2;
/**
 * After a seek VLC shows pictures from the seek point or from up to a second (a segment, a
 * keyframe interval) before it, depending on timing, straight from the CDN too: in the master
 * (a video variant plus an audio rendition, two streams to line up) `--start-time=2.3` gave 50
 * pictures in one direct run and 66 to 68 in others; in hls-ts-aes 48 directly and, once in
 * sixteen runs on a loaded machine, 55 through the proxy. The pictures both runs show must
 * match; up to a second of them may be missing from the start of either.
 */
const SEEK_LEAD_SLACK = 25;
/** Bytes of one yuv420p picture of each variant of hls-ts/master.m3u8. */
const pictureBytes = { highest: '86400', lowest: '21600' } as const;

describe('VLC decodes the same frames through the proxy as from the CDN', () => {
  test.each(plays)('vlc plays %s', async (_label, playerCase, entry, adaptiveLogic) => {
    const directUrl = stack.cdn.issue(playerCase.path);
    const proxiedUrl = stack.entryUrl(entry);
    const videoOnly = playerCase.path.startsWith('hls-ts/video');
    const options = { ...(adaptiveLogic ? { adaptiveLogic } : {}), expect: videoOnly ? (['video'] as const) : (['video', 'audio'] as const) };
    const cdnFrom = stack.cdn.requests.length;
    const direct = await vlcDecode(directUrl, options);
    const proxied = await vlcDecode(proxiedUrl, options);
    const upstream = cdnRequestsOf(stack, entry).filter((request) => stack.cdn.requests.indexOf(request) >= cdnFrom);
    console.log(
      `vlc ${playerCase.name}${adaptiveLogic ? ` (--adaptive-logic=${adaptiveLogic})` : ''}: direct ${describeDecode(direct)}; proxied ${describeDecode(proxied)}; ` +
        `${upstream.length} CDN requests by the proxy (${[...new Set(upstream.map((request) => request.resource.split('/').pop()))].join(' ')})`,
    );
    expect(direct.video.length, `VLC directly decoded nothing:\n${direct.run.stderr}`).toBeGreaterThan(0);
    expect(decodedDifference(direct, proxied), `directly:\n${direct.run.stderr.slice(-1000)}\nthrough the proxy:\n${redact(proxied.run.stderr.slice(-2000))}`).toBeUndefined();
    // VLC's transcode chain hands on all but the last picture.
    expect(direct.video.length, 'every picture decoded').toBeGreaterThanOrEqual(playerCase.seconds * 25 - 3);
    if (videoOnly) expect(direct.audio).toEqual([]);
    else expect(direct.audio.length, 'audio decoded').toBeGreaterThan(0);
    if (adaptiveLogic) expect(proxied.video[0]?.split(' ')[0], 'the variant VLC was told to pick').toBe(pictureBytes[adaptiveLogic]);
    expect(upstream.length).toBeGreaterThan(0);
    // VLC sometimes asks an MP4 for a range that starts at its end (`bytes=<size>-`, 416 from the
    // CDN, directly as well, depending on timing): no other refusal.
    const refusals = (requests: typeof upstream) => requests.filter((request) => request.status >= 400).map((request) => `${request.status} ${request.range}`);
    const unexpected = (list: string[]) => list.filter((refusal) => !/^416 bytes=\d+-$/.test(refusal));
    expect(unexpected(refusals(upstream))).toEqual([]);
    expect(unexpected(refusals(cdnRequestsUnder(stack, directUrl)))).toEqual([]);
  });

  test.each(playerCases.map((playerCase, index) => [playerCase.name, playerCase, catalog[index]!] as const))('vlc --start-time seeks in %s', async (name, playerCase, entry) => {
    const directUrl = stack.cdn.issue(playerCase.path);
    const proxiedUrl = stack.entryUrl(entry);
    const cdnFrom = stack.cdn.requests.length;
    const options = playerCase.variants ? { adaptiveLogic: 'highest' as const } : {};
    const direct = await vlcSeekDecode(directUrl, playerCase.seekTo, options);
    const proxied = await vlcSeekDecode(proxiedUrl, playerCase.seekTo, options);
    const upstream = cdnRequestsOf(stack, entry).filter((request) => stack.cdn.requests.indexOf(request) >= cdnFrom);
    const ranges = upstream.filter((request) => request.range !== undefined).map((request) => `${request.range}→${request.status}`);
    console.log(
      `vlc --start-time=${playerCase.seekTo} ${name}: direct ${describeDecode(direct)}; proxied ${describeDecode(proxied)}` +
        (ranges.length > 0 ? `; ranges through the proxy ${ranges.join(' ')}` : ''),
    );
    expect(decodedDifference(direct, proxied, { slack: SHOWN_SLACK, leadingSlack: SEEK_LEAD_SLACK }), redact(proxied.run.stderr.slice(-2000))).toBeUndefined();
    const expected = (playerCase.seconds - playerCase.seekTo) * 25;
    // Each run shown from the seek point or up to a second before it, with the last picture up to
    // twice more: a seek that did not land (shown from the start) is too many pictures.
    for (const [how, run] of [['directly', direct], ['through the proxy', proxied]] as const) {
      expect(run.video.length, `pictures shown ${how}`).toBeGreaterThanOrEqual(expected - 2 * SHOWN_SLACK);
      expect(run.video.length, `pictures shown ${how}`).toBeLessThanOrEqual(expected + SEEK_LEAD_SLACK + 1 + SHOWN_SLACK);
    }
  });

  test('VLC notices a proxy that corrupts a segment (the comparison can fail)', async () => {
    const entry = catalog[0]!;
    const front = await startTamperingFront(stack.proxy.url, { corrupt: (path) => path.endsWith('/seg1.ts') });
    try {
      const direct = await vlcDecode(stack.cdn.issue(playerCases[0]!.path));
      const tampered = await vlcDecode(front.via(stack.entryUrl(entry)));
      const difference = decodedDifference(direct, tampered);
      console.log(`vlc through a front corrupting seg1.ts: ${describeDecode(tampered)}; ${difference}`);
      expect(front.requests.filter((request) => request.corrupted).length, 'the front corrupted seg1.ts').toBeGreaterThan(0);
      expect(difference).toBeDefined();
    } finally {
      await front.close();
    }
  });
});
