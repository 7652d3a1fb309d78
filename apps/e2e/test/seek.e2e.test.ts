import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { mediaFixtures } from '../src/fixtures';
import { mediaDirWithLargeMp4s } from './support/media';
import { cdnRequestsOf, cdnRequestsUnder, episode, startStack, type Stack } from './support/stack';
import { firstFrameDifference, framemd5, redact } from './support/tools';

// A media server seeks by asking for a byte range: the proxy must pass each Range to the CDN and
// answer 206 with the CDN's bytes, so that ffmpeg lands on the same frames as it does directly.
// The committed MP4s (32 KiB) fit in ffmpeg's read buffer: ffmpeg seeks in them without a new
// request. The 2 MB MP4s encoded for this suite make it ask for ranges past the start.
const files = [
  ...mediaFixtures.filter((fixture) => fixture.kind === 'mp4').map((fixture) => ({ name: fixture.name, path: fixture.path, seeksByRange: false })),
  { name: 'seek-faststart (2 MB)', path: 'seek-faststart/video.mp4', seeksByRange: true },
  { name: 'seek-moov-end (2 MB)', path: 'seek-moov-end/video.mp4', seeksByRange: true },
];
const catalog = files.map((file, index) => episode('seek', index + 1, file.path));
const positions = ['1', '2', '3.5', '6.2'];

let stack: Stack;
let mediaDir: string | undefined;
beforeAll(async () => {
  mediaDir = await mediaDirWithLargeMp4s();
  stack = await startStack({ catalog, mediaDir });
});
afterAll(async () => {
  await stack?.close();
  if (mediaDir !== undefined) await rm(mediaDir, { recursive: true, force: true });
});

const cases = files.flatMap((file, index) =>
  positions.filter((seconds) => file.seeksByRange || Number(seconds) < 4).map((seconds) => [seconds, file.name, file, catalog[index]!] as const),
);

describe('ffmpeg -ss before -i lands on the same frames through the proxy as directly', () => {
  test.each(cases)('ffmpeg -ss %s -i <%s> -frames:v 5 -f framemd5', async (seconds, name, file, entry) => {
    const directUrl = stack.cdn.issue(file.path);
    const proxiedUrl = stack.entryUrl(entry);
    const logFrom = stack.logs.length;
    const cdnFrom = stack.cdn.requests.length;
    const options = { input: ['-ss', seconds], output: ['-frames:v', '5'], map: [] };
    const direct = await framemd5(directUrl, options);
    const proxied = await framemd5(proxiedUrl, options);

    const directRanges = cdnRequestsUnder(stack, directUrl).map((request) => request.range ?? 'none');
    const proxiedUpstream = cdnRequestsOf(stack, entry).filter((request) => stack.cdn.requests.indexOf(request) >= cdnFrom);
    const served = await stack.requestLinesLogged(directRanges.length, logFrom);
    console.log(
      `seek ${name} -ss ${seconds}: ${direct.frames.length} frames direct (${redact(directUrl)}), ${proxied.frames.length} proxied (${redact(proxiedUrl)}); ` +
        `first video frame ${proxied.frames.find((line) => line.startsWith('0,'))}\n` +
        `  ffmpeg's ranges directly: ${directRanges.join(' ')}\n` +
        `  ranges the proxy asked the CDN: ${proxiedUpstream.map((request) => `${request.range ?? 'none'}→${request.status}`).join(' ')}\n` +
        `  proxy log: ${served.map((line) => `${line.status} ${line.bytes} B (upstream ${line.upstreamStatus})`).join(', ')}`,
    );
    expect(firstFrameDifference(direct, proxied), `${name} -ss ${seconds}: framemd5 differs`).toBeUndefined();
    expect(proxied.perStream['0'], `${name} -ss ${seconds}: video frames`).toBe(5);
    // Each range ffmpeg asked the proxy for went to the CDN as asked and came back 206.
    expect(proxiedUpstream.map((request) => request.range)).toEqual(directRanges);
    expect(proxiedUpstream.every((request) => request.status === 206)).toBe(true);
    expect(served.length).toBe(directRanges.length);
    expect(served.every((line) => line.status === 206 && line.upstreamStatus === 206)).toBe(true);
    // A seek is a range that starts past the beginning.
    if (file.seeksByRange) expect(proxiedUpstream.some((request) => /^bytes=[1-9]\d*-/.test(request.range ?? ''))).toBe(true);
  });
});
