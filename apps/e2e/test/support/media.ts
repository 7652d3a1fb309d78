import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fixtureMediaDir } from '../../src/fixtures';
import { runTool } from './tools';

/**
 * A media folder holding the committed fixtures (linked) plus 8-second 640x360 MP4s of about
 * 2 MB, `seek-faststart/video.mp4` and `seek-moov-end/video.mp4`, encoded here with ffmpeg. The
 * committed MP4s fit in ffmpeg's 32 KiB read buffer, so seeking in them never needs a second
 * Range; in these it does.
 */
export async function mediaDirWithLargeMp4s(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'strm-e2e-media-'));
  for (const name of await readdir(fixtureMediaDir)) await symlink(join(fixtureMediaDir, name), join(dir, name));
  for (const [name, flags] of [['seek-faststart', ['-movflags', '+faststart']], ['seek-moov-end', []]] as const) {
    await mkdir(join(dir, name));
    const run = await runTool('ffmpeg', [
      '-nostdin', '-v', 'error', '-y',
      '-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=25:duration=8',
      '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000:duration=8',
      '-c:v', 'libx264', '-preset', 'ultrafast', '-qp', '18', '-g', '25', '-pix_fmt', 'yuv420p',
      '-c:a', 'aac', '-b:a', '96k', ...flags, join(dir, name, 'video.mp4'),
    ]);
    if (run.code !== 0) throw new Error(`could not encode ${name}: ${run.stderr}`);
  }
  return dir;
}

/** Characters of a URL query drawn from SHA-256 in counter mode: reproducible, and as incompressible as real CDN tokens. */
function queryText(length: number, seed: string): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~';
  let text = '';
  for (let block = 0; text.length < length; block++) {
    for (const byte of createHash('sha256').update(`${seed}:${block}`).digest()) if (text.length < length) text += alphabet[byte % alphabet.length];
  }
  return text;
}

/** The longest issued URL prefix of the fake CDN: `http://127.0.0.1:65535/t/<16-character token>/`. */
const LONGEST_CDN_PREFIX = 'http://127.0.0.1:65535/t/XXXXXXXXXXXXXXXX/';

/**
 * A media folder where the HLS fixtures `name-long/` are the committed ones with a random `?t=`
 * query on every URI of every playlist, long enough that each URI, resolved against the CDN's
 * issued URL, is `bytes` long (real CDNs sign every segment URL with a long query; the fake CDN
 * ignores queries). Everything else is linked.
 */
export async function mediaDirWithLongUris(bytes: number, fixtures: readonly string[]): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'strm-e2e-long-'));
  for (const name of await readdir(fixtureMediaDir)) await symlink(join(fixtureMediaDir, name), join(dir, name));
  for (const fixture of fixtures) {
    const source = join(fixtureMediaDir, fixture);
    for (const entry of await readdir(source, { recursive: true, withFileTypes: true })) {
      if (!entry.isFile()) continue;
      const file = join(entry.parentPath, entry.name);
      const path = relative(source, file);
      const target = join(dir, `${fixture}-long`, path);
      await mkdir(dirname(target), { recursive: true });
      if (!entry.name.endsWith('.m3u8')) {
        await symlink(file, target);
        continue;
      }
      const base = `${LONGEST_CDN_PREFIX}${fixture}-long/${path}`;
      const lengthen = (uri: string) => {
        const resolved = new URL(uri, base).href;
        return `${uri}?t=${queryText(bytes - resolved.length - 3, `${path}:${uri}`)}`;
      };
      const text = (await readFile(file, 'utf8'))
        .split('\n')
        .map((line) => (line === '' ? line : line.startsWith('#') ? line.replace(/URI="([^"]+)"/g, (_, uri: string) => `URI="${lengthen(uri)}"`) : lengthen(line)))
        .join('\n');
      await writeFile(target, text);
    }
  }
  return dir;
}

/** The generator of the live origins' media (a script of its own, so it can be run by hand too). */
const LIVE_MEDIA_SCRIPT = join(import.meta.dirname, '../../../../tools/fixtures/generate-live-media.mjs');

/**
 * The media of the fake CDN's live origins (`FakeCdnOptions.live`), encoded here by
 * `tools/fixtures/generate-live-media.mjs` into a temporary folder that is removed at once.
 */
export async function liveMedia(): Promise<Buffer> {
  const dir = await mkdtemp(join(tmpdir(), 'strm-e2e-live-'));
  try {
    const run = await runTool(process.execPath, [LIVE_MEDIA_SCRIPT, '--out', dir]);
    if (run.code !== 0) throw new Error(`could not encode the live media: ${run.stderr}`);
    return await readFile(join(dir, 'live.mp4'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
