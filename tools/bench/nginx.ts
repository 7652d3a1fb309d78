// Starts nginx from a configuration template of tools/bench in a temporary prefix, when nginx is
// installed: the proxy_pass reference (nginx.conf) and the origin that serves the media as static
// files (nginx-origin.conf).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { adoptProcess, benchDir, freePort, waitForPort, type ServerProcess } from './processes';

const CANDIDATES = ['/usr/sbin/nginx', '/usr/local/sbin/nginx', '/usr/local/bin/nginx', '/usr/bin/nginx', '/opt/homebrew/bin/nginx'];

/** The nginx binary, or undefined when none is installed (the nginx rows are then skipped). */
export function findNginx(): string | undefined {
  const fromPath = (process.env.PATH ?? '').split(':').map((dir) => join(dir, 'nginx'));
  return [...fromPath, ...CANDIDATES].find((path) => existsSync(path));
}

/** `nginx/1.22.1`, as `nginx -v` prints it (on stderr), for the output's notes; the path when it prints nothing. */
export function nginxVersion(binary: string): string {
  const printed = spawnSync(binary, ['-v'], { encoding: 'utf8' });
  return /nginx\/[\w.]+/.exec(`${printed.stderr ?? ''}${printed.stdout ?? ''}`)?.[0] ?? binary;
}

/** Writes `template` (a file of tools/bench) with its `@NAME@` placeholders filled into `prefix` and runs nginx on it. */
async function startNginxWith(name: string, binary: string, template: string, prefix: string, values: Record<string, string>): Promise<ServerProcess> {
  await mkdir(prefix, { recursive: true });
  const port = await freePort();
  let config = await readFile(join(benchDir, template), 'utf8');
  for (const [key, value] of Object.entries({ ...values, PREFIX: prefix, PORT: String(port) })) config = config.replaceAll(`@${key}@`, value);
  await writeFile(join(prefix, 'nginx.conf'), config);
  const child = spawn(binary, ['-p', prefix, '-e', join(prefix, 'error.log'), '-c', join(prefix, 'nginx.conf'), '-g', 'daemon off;'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-4000)));
  const exited = new Promise<never>((_, reject) => {
    child.once('exit', (code) => reject(new Error(`${name} (nginx) exited (${code}) before it listened: ${stderr}`)));
    child.once('error', reject);
  });
  exited.catch(() => {}); // only its first outcome matters, raced below
  await Promise.race([waitForPort(port), exited]);
  child.removeAllListeners('exit');
  return adoptProcess(name, child, `http://127.0.0.1:${port}`, () => stderr);
}

/** Starts nginx proxying everything to `origin` (`http://127.0.0.1:<port>`). */
export function startNginx(binary: string, origin: string, prefix: string): Promise<ServerProcess> {
  return startNginxWith('nginx', binary, 'nginx.conf', prefix, { ORIGIN: new URL(origin).host });
}

/** Starts nginx serving `mediaDir` under the fake CDN's token URLs (`/t/<token>/<path>`), with sendfile. */
export function startNginxOrigin(binary: string, mediaDir: string, prefix: string): Promise<ServerProcess> {
  return startNginxWith('origin', binary, 'nginx-origin.conf', prefix, { MEDIA: mediaDir });
}
