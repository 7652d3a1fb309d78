import { createHash } from 'node:crypto';
import { chmod, chown, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { redact, runTool, type ToolRun } from './tools';

/**
 * What a player decoded, by media type: one entry per decoded frame, `<bytes> <md5>` of the raw
 * picture (yuv420p) or audio samples (s16le). Stream indices are left out on purpose: VLC and mpv
 * number their output streams in the order the demuxer announced them, which varies from run to
 * run; the frames of a type do not.
 */
export interface DecodedFrames {
  readonly player: 'mpv' | 'vlc';
  readonly url: string;
  readonly video: readonly string[];
  readonly audio: readonly string[];
  /** Picture size of the video frames, e.g. `320x180`, when known (VLC's AVI states the coded size, e.g. `320x194`). */
  readonly size?: string;
  readonly run: ToolRun;
  /** Earlier runs taken again because a starved VLC muxed no audio (see `VlcDecodeOptions.expect`). */
  readonly retakes?: number;
}

/** Where one line of a `framemd5` listing belongs, from the `#media_type <index>: <type>` header lines. */
function splitFramemd5(text: string): { video: string[]; audio: string[]; size?: string } {
  const types = new Map<string, string>();
  let size: string | undefined;
  const video: string[] = [];
  const audio: string[] = [];
  for (const line of text.split('\n')) {
    const mediaType = /^#media_type (\d+): (\w+)/.exec(line);
    if (mediaType) types.set(mediaType[1]!, mediaType[2]!);
    const dimensions = /^#dimensions \d+: (\d+x\d+)/.exec(line);
    if (dimensions) size = dimensions[1];
    if (line === '' || line.startsWith('#')) continue;
    const fields = line.split(',').map((field) => field.trim());
    const entry = `${fields[4]} ${fields[5]}`;
    if (types.get(fields[0]!) === 'video') video.push(entry);
    else if (types.get(fields[0]!) === 'audio') audio.push(entry);
  }
  return { video, audio, ...(size ? { size } : {}) };
}

/**
 * mpv plays `url` in its encoding mode (`--o`), writing every decoded picture as rawvideo and
 * every audio frame as PCM into ffmpeg's `framemd5` muxer. The decode is mpv's own pipeline
 * (demuxer, stream cache, HLS variant choice, `--start` seek); only the output is a file instead
 * of a window, and it runs as fast as the CPU allows, so two runs give identical listings.
 */
export async function mpvDecode(url: string, options: { start?: number; hlsBitrate?: 'min' | 'max'; timeoutMs?: number } = {}): Promise<DecodedFrames> {
  const run = await runTool('mpv', [
    '--no-config', '--msg-level=all=error',
    ...(options.start !== undefined ? [`--start=${options.start}`] : []),
    ...(options.hlsBitrate ? [`--hls-bitrate=${options.hlsBitrate}`] : []),
    '--o=-', '--of=framemd5', '--ovc=rawvideo', '--oac=pcm_s16le', url,
  ], options.timeoutMs ?? 60_000);
  return { player: 'mpv', url, ...splitFramemd5(run.stdout.toString('utf8')), run };
}

/** Debian's `nobody` and `nogroup`: VLC runs as them. */
const NOBODY = 65534;
const NOGROUP = 65534;

/**
 * VLC refuses to run as root: every VLC run drops to `nobody` with `setpriv`, in a scratch folder
 * that user may write to (its HOME, its runtime dir and the output), removed afterwards.
 */
async function withVlcScratch<T>(use: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'strm-e2e-vlc-'));
  // Owned by `nobody`, not only writable: VLC's PulseAudio client refuses (and says so on
  // stderr) a runtime dir owned by another user.
  if (process.getuid?.() === 0) await chown(dir, NOBODY, NOGROUP);
  else await chmod(dir, 0o777);
  try {
    return await use(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function cvlc(dir: string, args: readonly string[], timeoutMs: number): Promise<ToolRun> {
  const asNobody = process.getuid?.() === 0 ? ['setpriv', `--reuid=${NOBODY}`, `--regid=${NOGROUP}`, '--clear-groups'] : [];
  // --no-video-title-show: VLC draws the media's name over the first seconds of the picture, and
  // the name differs between the CDN's URL and the proxy's.
  const command = [...asNobody, 'env', `HOME=${dir}`, `XDG_RUNTIME_DIR=${dir}`, 'cvlc', '--quiet', '--no-interact', '--no-video-title-show', ...args, 'vlc://quit'];
  return runTool(command[0]!, command.slice(1), timeoutMs);
}

/**
 * VLC decodes `url` through its transcode chain into raw I420 pictures and s16le samples in an AVI
 * file (`#transcode{vcodec=I420,acodec=s16l}`): VLC's demuxers, its adaptive HLS module
 * (`--adaptive-logic` picks the variant: `highest` or `lowest`, so the choice does not depend on a
 * bandwidth estimate) and its decoders, without the clock, so two runs give identical frames.
 * ffmpeg then lists the raw frames (`-c copy -f framemd5`): no second decode.
 */
export async function vlcDecode(url: string, options: VlcDecodeOptions = {}): Promise<DecodedFrames> {
  const attempts = options.expect?.includes('audio') ? 3 : 1;
  let decoded = await vlcDecodeOnce(url, options);
  for (let attempt = 2; attempt <= attempts && decoded.video.length > 0 && decoded.audio.length === 0; attempt += 1) {
    decoded = { ...(await vlcDecodeOnce(url, options)), retakes: attempt - 1 };
  }
  return decoded;
}

export interface VlcDecodeOptions {
  adaptiveLogic?: 'highest' | 'lowest';
  timeoutMs?: number;
  /**
   * The stream types the media has. VLC's AVI mux writes its header once the first stream holds
   * `--sout-mux-caching` of media and cannot add a stream after that ("cannot add a new stream"):
   * on a starved machine the audio decoder can start that late, and the file has no audio at all
   * (1 run in 36 with 6 busy loops on VLC's core, straight from the CDN). A run whose `audio` is
   * expected and empty is taken again, up to three runs: a source that never delivers audio still
   * fails, a starved VLC does not.
   */
  expect?: readonly ('video' | 'audio')[];
}

async function vlcDecodeOnce(url: string, options: VlcDecodeOptions): Promise<DecodedFrames> {
  return withVlcScratch(async (dir) => {
    const output = join(dir, 'decoded.avi');
    const run = await cvlc(dir, [
      ...(options.adaptiveLogic ? [`--adaptive-logic=${options.adaptiveLogic}`] : []),
      // Twice VLC's default wait for every stream before the AVI header is written (1.5 s of
      // media), still shorter than the shortest fixture (4 s): the mux never waits forever for a
      // stream a video-only media does not have.
      '--sout-mux-caching=3000',
      url, '--sout', `#transcode{vcodec=I420,acodec=s16l}:std{access=file,mux=avi,dst=${output}}`,
    ], options.timeoutMs ?? 60_000);
    const listing = await runTool('ffmpeg', ['-nostdin', '-v', 'error', '-i', output, '-map', '0', '-c', 'copy', '-f', 'framemd5', '-']);
    const frames = listing.code === 0 ? splitFramemd5(listing.stdout.toString('utf8')) : { video: [], audio: [] };
    return { player: 'vlc' as const, url, ...frames, run: { ...run, stderr: `${run.stderr}${listing.code === 0 ? '' : `\nffmpeg on VLC's output: ${listing.stderr}`}` } };
  });
}

/**
 * VLC plays `url` from `start` seconds (`--start-time`) and shows it on its `yuv` video output,
 * which writes every picture it displays to a YUV4MPEG2 file: the seek VLC itself performs, and
 * the pictures it would put on screen, as they come off its clock (real time). Audio goes to a
 * WAV file and is not compared: its first samples depend on when the clock started.
 */
export async function vlcSeekDecode(url: string, start: number, options: { adaptiveLogic?: 'highest' | 'lowest'; timeoutMs?: number } = {}): Promise<DecodedFrames> {
  return withVlcScratch(async (dir) => {
    const output = join(dir, 'shown.y4m');
    const run = await cvlc(dir, [
      ...(options.adaptiveLogic ? [`--adaptive-logic=${options.adaptiveLogic}`] : []),
      // A picture late on the clock (a loaded machine) is shown late rather than dropped.
      '--no-drop-late-frames', '--no-skip-frames',
      `--start-time=${start}`, '--vout=yuv', `--yuv-file=${output}`, '--yuv-yuv4mpeg2',
      '--aout=afile', `--audiofile-file=${join(dir, 'heard.wav')}`, url,
    ], options.timeoutMs ?? 60_000);
    const bytes = await readFile(output).catch(() => Buffer.alloc(0));
    return { player: 'vlc' as const, url, ...y4mFrames(bytes), audio: [], run };
  });
}

/** `<bytes> <md5>` of each picture of a YUV4MPEG2 stream (4:2:0, as VLC writes it). */
function y4mFrames(bytes: Buffer): { video: string[]; size?: string } {
  const headerEnd = bytes.indexOf(0x0a);
  if (headerEnd < 0) return { video: [] };
  const header = bytes.subarray(0, headerEnd).toString('latin1');
  const width = Number(/ W(\d+)/.exec(header)?.[1]);
  const height = Number(/ H(\d+)/.exec(header)?.[1]);
  const pictureBytes = (width * height * 3) / 2;
  const video: string[] = [];
  let offset = headerEnd + 1;
  while (offset < bytes.length) {
    const frameHeaderEnd = bytes.indexOf(0x0a, offset);
    if (frameHeaderEnd < 0) break;
    const picture = bytes.subarray(frameHeaderEnd + 1, frameHeaderEnd + 1 + pictureBytes);
    if (picture.length < pictureBytes) break;
    video.push(`${pictureBytes} ${createHash('md5').update(picture).digest('hex')}`);
    offset = frameHeaderEnd + 1 + pictureBytes;
  }
  return { video, size: `${width}x${height}` };
}

/**
 * Undefined when `proxied` holds the same frames as `direct`, in the same order; otherwise what
 * differs first, for a failure message. For outputs driven by a clock (VLC's `yuv` output shows
 * the first picture after a seek and the last one zero to two times, depending on timing), up to
 * `slack` frames may be missing or extra at the end of each list and up to `leadingSlack`
 * (default `slack`) at the start: the frames between must match one for one.
 */
export function decodedDifference(direct: DecodedFrames, proxied: DecodedFrames, options: { slack?: number; leadingSlack?: number } = {}): string | undefined {
  const slack = options.slack ?? 0;
  const leadingSlack = options.leadingSlack ?? slack;
  for (const type of ['video', 'audio'] as const) {
    const a = direct[type];
    const b = proxied[type];
    if (Math.abs(a.length - b.length) > leadingSlack + slack) return `${type}: ${a.length} frames directly, ${b.length} through the proxy (${redact(proxied.url)})`;
    if (!sameWithin(a, b, leadingSlack, slack)) {
      const i = a.findIndex((frame, index) => frame !== b[index]);
      return `${type} frame ${i} differs: direct ${a[i]}, proxied ${b[i]} (${a.length} frames directly, ${b.length} proxied, ${redact(proxied.url)})`;
    }
  }
  if (direct.size !== proxied.size) return `picture size ${direct.size} directly, ${proxied.size} through the proxy`;
  return undefined;
}

/**
 * Whether `a` and `b` match frame for frame once up to `leading` frames are dropped from the start
 * of either and up to `trailing` from the end of either.
 */
function sameWithin(a: readonly string[], b: readonly string[], leading: number, trailing: number): boolean {
  for (let skipA = 0; skipA <= leading; skipA += 1) {
    for (let skipB = 0; skipB <= leading; skipB += 1) {
      const compared = Math.min(a.length - skipA, b.length - skipB);
      if (compared < Math.min(a.length, b.length) - leading - trailing || compared <= 0) continue;
      let same = true;
      for (let i = 0; i < compared && same; i += 1) same = a[skipA + i] === b[skipB + i];
      if (same) return true;
    }
  }
  return a.length === 0 && b.length === 0;
}

/** One line for the test output: frame counts, picture size, time. */
export function describeDecode(frames: DecodedFrames): string {
  return `${frames.video.length} video frames${frames.size ? ` ${frames.size}` : ''}, ${frames.audio.length} audio frames, exit ${frames.run.code}, ${frames.run.ms} ms${frames.retakes ? ` (after ${frames.retakes} run(s) with no audio)` : ''}`;
}
