import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';

// `npm start` with no configuration runs this demo; its printed URLs must play.
const DEMO = join(import.meta.dirname, '..', 'src', 'demo.ts');
const demo = spawn(process.execPath, ['--conditions=@strm/source', '--import', 'tsx', DEMO], {
  env: { PATH: process.env.PATH ?? '', PORT: '0', HOST: '127.0.0.1' },
  stdio: ['ignore', 'pipe', 'pipe'],
});
let output = '';
const ready = new Promise<string>((resolve, reject) => {
  demo.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
    if (output.includes('Ctrl-C stops.')) resolve(output);
  });
  demo.once('exit', (code) => reject(new Error(`the demo exited with ${code} before it was ready:\n${output}`)));
});

afterAll(async () => {
  if (demo.exitCode === null) {
    demo.kill('SIGTERM');
    await once(demo, 'exit');
  }
});

describe('the demo (npm start without configuration)', () => {
  test('prints one signed URL per demo episode, and ffprobe opens each through the proxy', async () => {
    const printed = await ready;
    const urls = [...new Set(printed.match(/http:\/\/127\.0\.0\.1:\d+\/strm\/stream\?\S+&sig=[0-9a-f]{64}/g))];
    expect(urls).toHaveLength(5);
    for (const url of urls) {
      const probe = spawnSync('ffprobe', ['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', url], { encoding: 'utf8', timeout: 30_000 });
      console.log(`demo: ffprobe ${url.replace(/sig=\w+/, 'sig=…')} → duration ${probe.stdout.trim()}`);
      expect(probe.status, probe.stderr).toBe(0);
      expect(Number(probe.stdout.trim())).toBeGreaterThan(3.5);
    }
  });

  test('stops cleanly on SIGTERM', async () => {
    await ready;
    demo.kill('SIGTERM');
    const [code] = await once(demo, 'exit');
    expect(code).toBe(0);
  });
});
