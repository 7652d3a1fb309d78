import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { mediaFixtures } from '../src/fixtures';
import { episode, startStackWithLargeMp4s, type Stack } from './support/stack';
import { startTamperingFront } from './support/tamper';
import { firstFrameDifference, framemd5, redact, runTool } from './support/tools';

// The commands Jellyfin (10.9–10.11) runs on a .strm item's URL, argument for argument where
// Jellyfin fixes them: the probe when the item is scanned, the start of a playback at a position
// (its transcode reads from `-ss` on, without accurate seeking), and a direct-stream remux into
// HLS. Each must give through the proxy what it gives from the CDN.
const PROBE_ARGS = ['-analyzeduration', '200M', '-probesize', '1G'] as const;

const files = [
  ...mediaFixtures.map((fixture) => ({ name: fixture.name, path: fixture.path, seconds: fixture.seconds })),
  { name: 'mp4-moov-first-8s', path: 'seek-faststart/video.mp4', seconds: 8 },
  { name: 'mp4-moov-last-8s', path: 'seek-moov-end/video.mp4', seconds: 8 },
];
const catalog = files.map((file, index) => episode('jellyfin', index + 1, file.path));
const cases = files.map((file, index) => [file.name, file, catalog[index]!] as const);

/**
 * Jellyfin resumes at `-ss 7`; the committed fixtures last 4 s, so they start at 2 s (past the
 * first keyframes, inside the last two segments). The 8-second MP4s take Jellyfin's 7.
 */
const startAt = (seconds: number) => (seconds >= 8 ? '7' : '2');

/**
 * ffmpeg 5.1's HLS demuxer finds no packet after an input seek into fMP4 segments: straight from
 * the CDN too, `-ss 2 -i hls-fmp4/master.m3u8` decodes nothing (newer FFmpeg, such as
 * jellyfin-ffmpeg 7, seeks there). Through the proxy it must do exactly the same.
 */
const seekLimits: Record<string, string> = {
  'hls-fmp4': 'ffmpeg 5.1: no packet after an input seek into fMP4 HLS segments',
  'dash-timeline': 'ffmpeg 5.1: no packet after an input seek into a DASH SegmentTimeline',
  'dash-single-file': 'ffmpeg 5.1: no packet after an input seek into a single-file DASH SegmentList',
  'dash-multi-period': 'ffmpeg 5.1: no packet after an input seek into the (last, 2 s) Period it reads',
};

/**
 * ffmpeg 5.1's DASH demuxer starts a static SegmentTimeline and a single-file SegmentList at their
 * second segment (apps/e2e/fixtures/README.md), directly too: a remux of them lasts 3 s, not 4.
 */
const remuxSeconds = (name: string, seconds: number) => (name === 'dash-timeline' || name === 'dash-single-file' ? seconds - 1 : seconds);

let stack: Stack;
const scratch: string[] = [];
beforeAll(async () => {
  stack = await startStackWithLargeMp4s(catalog);
  // Encoding the 8-second MP4s can outlast the default 10 s hook timeout on a loaded runner.
}, 60_000);
afterAll(async () => {
  await stack?.close();
  for (const dir of scratch) await rm(dir, { recursive: true, force: true });
});

/** Jellyfin's probe, verbatim: `ffprobe -analyzeduration 200M -probesize 1G -i URL -threads 0 -v warning -print_format json -show_streams -show_chapters -show_format`. */
async function jellyfinProbe(url: string) {
  const run = await runTool('ffprobe', [...PROBE_ARGS, '-i', url, '-threads', '0', '-v', 'warning', '-print_format', 'json', '-show_streams', '-show_chapters', '-show_format']);
  if (run.code !== 0) throw new Error(`ffprobe failed (exit ${run.code}) on ${redact(url)}:\n${redact(run.stderr)}`);
  const parsed = JSON.parse(run.stdout.toString('utf8')) as { streams: unknown[]; chapters: unknown[]; format: Record<string, unknown> };
  // The URL is the one field that must differ.
  const { filename: _filename, ...format } = parsed.format;
  return { streams: parsed.streams, chapters: parsed.chapters, format, run };
}

describe('Jellyfin\'s ffprobe, playback and remux give the same through the proxy as from the CDN', () => {
  test.each(cases)('ffprobe -analyzeduration 200M -probesize 1G -i <%s> … -show_streams -show_chapters -show_format', async (name, file, entry) => {
    const direct = await jellyfinProbe(stack.cdn.issue(file.path));
    const proxied = await jellyfinProbe(stack.entryUrl(entry));
    console.log(
      `jellyfin probe ${name}: ${proxied.format['format_name']} ${proxied.format['duration']} s, ${proxied.streams.length} streams ` +
        `(${(proxied.streams as Array<Record<string, unknown>>).map((stream) => `${stream['codec_type']} ${stream['codec_name']}`).join(', ')}), format size ${direct.format['size']} B directly, ${proxied.format['size']} B through the proxy`,
    );
    expect(proxied.streams).toEqual(direct.streams);
    expect(proxied.chapters).toEqual(direct.chapters);
    // For HLS and DASH, ffprobe's `size` is the entry playlist's (or MPD's) length and `bit_rate` that
    // length over the duration: the rewritten one (URLs carrying sealed tokens) is longer. For MP4 both are the file's.
    const isManifest = file.path.endsWith('.m3u8') || file.path.endsWith('.mpd');
    const comparable = (format: Record<string, unknown>) => (isManifest ? { ...format, size: undefined, bit_rate: undefined } : format);
    expect(comparable(proxied.format)).toEqual(comparable(direct.format));
    if (!file.path.endsWith('.m3u8')) expect(proxied.format['size']).toBeDefined();
    expect(Number(direct.format['duration'])).toBeGreaterThanOrEqual(file.seconds - 0.1);
  });

  test.each(cases)('ffmpeg -analyzeduration 200M -probesize 1G -ss N -noaccurate_seek -i <%s> decodes the same frames', async (name, file, entry) => {
    const ss = startAt(file.seconds);
    const options = { input: [...PROBE_ARGS, '-ss', ss, '-noaccurate_seek'] };
    const direct = await framemd5(stack.cdn.issue(file.path), options);
    const proxied = await framemd5(stack.entryUrl(entry), options);
    console.log(
      `jellyfin playback -ss ${ss} ${name}: ${direct.frames.length} frames directly, ${proxied.frames.length} through the proxy, per stream ${JSON.stringify(proxied.perStream)}` +
        (seekLimits[name] ? `; known limit: ${seekLimits[name]}` : ''),
    );
    expect(firstFrameDifference(direct, proxied), `${name}: framemd5 differs`).toBeUndefined();
    if (seekLimits[name] === undefined) {
      // Without accurate seeking, decoding starts at the keyframe before N (one a second).
      const videoFrames = direct.perStream['0'] ?? 0;
      expect(videoFrames + (direct.perStream['1'] ?? 0)).toBeGreaterThan(0);
      expect(direct.frames.length).toBeGreaterThanOrEqual((file.seconds - Number(ss) - 1) * 25);
    }
  });

  test.each(cases)('ffmpeg -analyzeduration 200M -probesize 1G -i <%s> -map 0 -c copy -f hls (direct stream) keeps the duration', async (name, file, entry) => {
    const remux = async (url: string) => {
      const dir = await mkdtemp(join(tmpdir(), 'strm-e2e-remux-'));
      scratch.push(dir);
      const run = await runTool('ffmpeg', [
        '-nostdin', '-v', 'error', ...PROBE_ARGS, '-i', url, '-map', '0', '-c', 'copy',
        '-f', 'hls', '-hls_time', '3', '-hls_playlist_type', 'vod', '-hls_segment_type', 'mpegts', '-start_number', '0',
        '-hls_segment_filename', join(dir, 'seg%d.ts'), join(dir, 'index.m3u8'),
      ]);
      if (run.code !== 0) throw new Error(`remux failed (exit ${run.code}) of ${redact(url)}:\n${redact(run.stderr)}`);
      const duration = await runTool('ffprobe', ['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', join(dir, 'index.m3u8')]);
      const packets = await framemd5(join(dir, 'index.m3u8'), { output: ['-c', 'copy'] });
      return { duration: duration.stdout.toString('utf8').trim(), segments: (await readdir(dir)).filter((entryName) => entryName.endsWith('.ts')).length, packets };
    };
    const direct = await remux(stack.cdn.issue(file.path));
    const proxied = await remux(stack.entryUrl(entry));
    console.log(`jellyfin remux ${name}: ${proxied.duration} s in ${proxied.segments} segments, ${proxied.packets.frames.length} packets through the proxy; directly ${direct.duration} s, ${direct.segments} segments`);
    expect(proxied.duration).toBe(direct.duration);
    expect(Number(direct.duration)).toBeGreaterThanOrEqual(remuxSeconds(name, file.seconds) - 0.1);
    expect(proxied.segments).toBe(direct.segments);
    // Stronger than the duration: the copied packets themselves are the same.
    expect(firstFrameDifference(direct.packets, proxied.packets)).toBeUndefined();
  });

  test('Jellyfin\'s playback notices a proxy that corrupts the media (the suite can fail)', async () => {
    const entry = catalog[files.findIndex((file) => file.name === 'hls-byterange')]!;
    const front = await startTamperingFront(stack.proxy.url, { corrupt: (_path, contentType) => contentType.startsWith('video/') });
    try {
      const options = { input: [...PROBE_ARGS, '-ss', '2', '-noaccurate_seek'] };
      const direct = await framemd5(stack.cdn.issue('hls-byterange/index.m3u8'), options);
      const tampered = await framemd5(front.via(stack.entryUrl(entry)), options).catch((error: Error) => error);
      const difference = tampered instanceof Error ? tampered.message.split('\n')[0] : firstFrameDifference(direct, tampered);
      console.log(`jellyfin playback through a front corrupting media.ts ranges: ${difference}`);
      expect(front.requests.filter((request) => request.corrupted).length, 'the front corrupted media').toBeGreaterThan(0);
      expect(difference).toBeDefined();
    } finally {
      await front.close();
    }
  });
});
