// Starts nginx with tools/bench/nginx.conf in a temporary prefix, when nginx is installed.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { adoptProcess, benchDir, freePort, waitForPort, type ServerProcess } from './processes';

const CANDIDATES = ['/usr/sbin/nginx', '/usr/local/sbin/nginx', '/usr/local/bin/nginx', '/usr/bin/nginx', '/opt/homebrew/bin/nginx'];

/** The nginx binary, or undefined when none is installed (the nginx row is then skipped). */
export function findNginx(): string | undefined {
  const fromPath = (process.env.PATH ?? '').split(':').map((dir) => join(dir, 'nginx'));
  return [...fromPath, ...CANDIDATES].find((path) => existsSync(path));
}

/** Starts nginx proxying everything to `origin` (`http://127.0.0.1:<port>`). */
export async function startNginx(binary: string, origin: string, prefix: string): Promise<ServerProcess> {
  await mkdir(prefix, { recursive: true });
  const port = await freePort();
  const template = await readFile(join(benchDir, 'nginx.conf'), 'utf8');
  const config = template
    .replaceAll('@PREFIX@', prefix)
    .replaceAll('@ORIGIN@', new URL(origin).host)
    .replaceAll('@PORT@', String(port));
  await writeFile(join(prefix, 'nginx.conf'), config);
  const child = spawn(binary, ['-p', prefix, '-e', join(prefix, 'error.log'), '-c', join(prefix, 'nginx.conf'), '-g', 'daemon off;'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-4000)));
  const exited = new Promise<never>((_, reject) => {
    child.once('exit', (code) => reject(new Error(`nginx exited (${code}) before it listened: ${stderr}`)));
    child.once('error', reject);
  });
  exited.catch(() => {}); // only its first outcome matters, raced below
  await Promise.race([waitForPort(port), exited]);
  child.removeAllListeners('exit');
  return adoptProcess('nginx', child, `http://127.0.0.1:${port}`, () => stderr);
}
