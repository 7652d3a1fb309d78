import { spawn } from 'node:child_process';

/** What one run of ffmpeg or ffprobe left behind. */
export interface ToolRun {
  readonly command: string;
  readonly code: number | null;
  readonly stdout: Buffer;
  readonly stderr: string;
  readonly ms: number;
}

/**
 * Runs ffmpeg/ffprobe (or another player: mpv, `setpriv … cvlc`) to the end and captures both
 * outputs. A run that outlives `timeoutMs` is killed and rejected with its stderr so far: a hung
 * player must fail its test, not the suite.
 */
export function runTool(binary: string, args: readonly string[], timeoutMs = 60_000): Promise<ToolRun> {
  const command = `${binary} ${args.map((arg) => (/[\s&?]/.test(arg) ? `'${redact(arg)}'` : redact(arg))).join(' ')}`;
  const startedAt = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const stdout: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${command} did not finish within ${timeoutMs} ms; stderr:\n${redact(stderr.slice(-2000))}`));
    }, timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ command, code, stdout: Buffer.concat(stdout), stderr, ms: Math.round(performance.now() - startedAt) });
    });
  });
}

/** Entry URLs carry a signature: keep it out of test output. */
export function redact(text: string): string {
  return text.replace(/sig=[0-9a-f]{8,}/g, 'sig=…');
}

/** The `framemd5` of what ffmpeg decodes from `url`: one line per frame (stream, dts, pts, duration, size, md5). */
export interface FrameHashes {
  readonly url: string;
  /** Frame lines, header comments removed. */
  readonly frames: readonly string[];
  /** Frames per stream index. */
  readonly perStream: Readonly<Record<string, number>>;
  readonly run: ToolRun;
}

/**
 * Decodes every stream of `url` (`-map 0`) to `framemd5`. `input` goes before `-i` (e.g. `-ss 2`),
 * `output` after it (e.g. `-frames:v 5`). A failed decode throws with ffmpeg's stderr.
 */
export async function framemd5(url: string, options: { input?: readonly string[]; output?: readonly string[]; map?: readonly string[] } = {}): Promise<FrameHashes> {
  const args = [
    '-nostdin', '-hide_banner', '-v', 'error',
    ...(options.input ?? []), '-i', url,
    ...(options.map ?? ['-map', '0']), ...(options.output ?? []),
    '-f', 'framemd5', '-',
  ];
  const run = await runTool('ffmpeg', args);
  if (run.code !== 0) throw new Error(`ffmpeg failed (exit ${run.code}) on ${redact(url)}:\n${redact(run.stderr.slice(-2000))}`);
  const frames = run.stdout.toString('utf8').split('\n').filter((line) => line !== '' && !line.startsWith('#'));
  const perStream: Record<string, number> = {};
  for (const line of frames) {
    const stream = line.split(',')[0]!.trim();
    perStream[stream] = (perStream[stream] ?? 0) + 1;
  }
  return { url, frames, perStream, run };
}

/**
 * Undefined when both decodes produced the same frames; otherwise which frame differs first,
 * with both lines, so a failure names the frame and its bytes' md5.
 */
export function firstFrameDifference(direct: FrameHashes, proxied: FrameHashes): string | undefined {
  const length = Math.max(direct.frames.length, proxied.frames.length);
  for (let i = 0; i < length; i += 1) {
    if (direct.frames[i] !== proxied.frames[i]) {
      return [
        `frame ${i} differs (direct ${direct.frames.length} frames, proxied ${proxied.frames.length} frames)`,
        `  direct  ${redact(direct.url)}: ${direct.frames[i] ?? '(none)'}`,
        `  proxied ${redact(proxied.url)}: ${proxied.frames[i] ?? '(none)'}`,
      ].join('\n');
    }
  }
  return undefined;
}

/** What ffprobe says about a media: what a media server shows and plans its transcode from. */
export interface ProbeSummary {
  readonly duration: string;
  readonly formatName: string;
  readonly streams: readonly string[];
}

/** ffprobe's streams and duration, one readable line per stream (type, codec, geometry or audio layout, time base). */
export async function probe(url: string): Promise<ProbeSummary & { run: ToolRun }> {
  const run = await runTool('ffprobe', ['-v', 'error', '-show_format', '-show_streams', '-of', 'json', url]);
  if (run.code !== 0) throw new Error(`ffprobe failed (exit ${run.code}) on ${redact(url)}:\n${redact(run.stderr.slice(-2000))}`);
  const parsed = JSON.parse(run.stdout.toString('utf8')) as {
    format: { duration?: string; format_name?: string };
    streams: Array<Record<string, string | number | undefined>>;
  };
  const streams = parsed.streams.map((stream) =>
    [
      `#${stream.index}`,
      stream.codec_type,
      stream.codec_name,
      stream.profile,
      stream.width !== undefined ? `${stream.width}x${stream.height}` : undefined,
      stream.r_frame_rate !== '0/0' ? stream.r_frame_rate : undefined,
      stream.sample_rate !== undefined ? `${stream.sample_rate} Hz` : undefined,
      stream.channel_layout,
      `tb ${stream.time_base}`,
      stream.duration !== undefined ? `${stream.duration} s` : undefined,
    ].filter((part) => part !== undefined).join(' '),
  );
  return { duration: parsed.format.duration ?? 'unknown', formatName: parsed.format.format_name ?? 'unknown', streams, run };
}

/**
 * The extensions ffmpeg's HLS demuxer accepts for a segment URL by default, read from the
 * installed ffmpeg (`allowed_segment_extensions` where the build has it, else `allowed_extensions`).
 */
export async function ffmpegAllowedSegmentExtensions(): Promise<{ option: string; extensions: readonly string[] }> {
  const run = await runTool('ffmpeg', ['-hide_banner', '-h', 'demuxer=hls']);
  const text = `${run.stdout.toString('utf8')}${run.stderr}`;
  for (const option of ['allowed_segment_extensions', 'allowed_extensions']) {
    const match = new RegExp(`-${option}\\s.*\\(default "([^"]*)"\\)`).exec(text);
    if (match) return { option, extensions: match[1]!.split(',') };
  }
  throw new Error(`ffmpeg -h demuxer=hls lists no allowed extensions:\n${text.slice(0, 2000)}`);
}
