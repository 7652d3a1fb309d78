import { mkdir, mkdtemp, readdir, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
