import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { watch } from 'node:fs';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository's README: the reverse-proxy snippet is read from it, so the test runs what users copy. */
const README = fileURLToPath(new URL('../../../../README.md', import.meta.url));

/**
 * The nginx `location` block of the README's "Behind a reverse proxy" section, exactly as written
 * there (the first ```nginx block after that heading).
 */
export async function readmeNginxSnippet(): Promise<string> {
  const text = await readFile(README, 'utf8');
  const section = text.indexOf('### Behind a reverse proxy');
  if (section === -1) throw new Error('README.md has no "### Behind a reverse proxy" section');
  const match = /```nginx\n([\s\S]*?)```/.exec(text.slice(section));
  if (match === null) throw new Error('the "Behind a reverse proxy" section of README.md has no ```nginx block');
  return match[1]!;
}

/** One line of the front's access log: what nginx received and what its upstream answered. */
export interface FrontLogLine {
  method: string;
  /** The path and query as the client sent them (prefix included). */
  uri: string;
  status: number;
  /** The address nginx forwarded to, `-` when it answered by itself. */
  upstream: string;
}

/** A running nginx in front of the proxy. */
export interface NginxFront {
  /** `http://127.0.0.1:<port>` */
  readonly origin: string;
  /** Process ids of nginx's master and its worker (the one that moves the bytes). */
  processIds(): Promise<{ master: number; workers: number[] }>;
  /** Parsed access log so far (read from its file on each call). */
  accessLog(): Promise<FrontLogLine[]>;
  /** nginx's error log so far (level info and above: upstream resets and early closes are there). */
  errorLog(): Promise<string>;
  /** Resolves at the next write to the access log (nginx writes a line when a request ends). */
  accessLogChanged(): Promise<void>;
  close(): Promise<void>;
}

/** A port that was free a moment ago (nginx cannot listen on port 0 and report the port). */
async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}

/** Resolves when nginx says its workers start (the listening sockets are open by then). */
function workersStarted(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    let stderr = '';
    const onData = (chunk: string) => {
      stderr += chunk;
      if (stderr.includes('start worker processes')) {
        child.stderr!.off('data', onData);
        child.off('exit', onExit);
        resolve();
      }
    };
    const onExit = (code: number | null) => reject(new Error(`nginx exited (${code}) before it started:\n${stderr.slice(-2000)}`));
    child.stderr!.setEncoding('utf8').on('data', onData);
    child.once('exit', onExit);
  });
}

/**
 * Starts Debian's nginx as a foreground child (`daemon off`) with its own prefix, config, pid
 * file and temp folders in a fresh temp directory, serving `locationBlock` on a free loopback
 * port. `strm:8080` in the block is replaced by the proxy's address. Killed and removed on close.
 */
export async function startNginxFront(locationBlock: string, proxyAddress: string): Promise<NginxFront> {
  const dir = await mkdtemp(join(tmpdir(), 'strm-nginx-'));
  // nginx run by root starts its workers as nobody, which must reach the temp folders.
  await chmod(dir, 0o755);
  const accessLogPath = join(dir, 'access.log');
  const errorLogPath = join(dir, 'error.log');
  const block = locationBlock.replaceAll('strm:8080', proxyAddress);
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const config = [
      'daemon off;',
      'worker_processes 1;',
      `pid ${join(dir, 'nginx.pid')};`,
      'error_log stderr notice;',
      `error_log ${errorLogPath} info;`,
      'events { worker_connections 256; }',
      'http {',
      "  log_format front '$request_method $request_uri $status $upstream_addr';",
      `  access_log ${accessLogPath} front;`,
      ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((name) => `  ${name}_temp_path ${join(dir, name)};`),
      `  server {`,
      `    listen 127.0.0.1:${port};`,
      block.replace(/^/gm, '    '),
      '  }',
      '}',
      '',
    ].join('\n');
    const configPath = join(dir, 'nginx.conf');
    await writeFile(configPath, config);
    const child = spawn('nginx', ['-e', 'stderr', '-p', dir, '-c', configPath], { stdio: ['ignore', 'ignore', 'pipe'] });
    try {
      await workersStarted(child);
    } catch (error) {
      // Another process took the port between freePort() and nginx's bind: try another.
      if (attempt < 3 && String(error).includes('Address already in use')) continue;
      await rm(dir, { recursive: true, force: true });
      throw error;
    }
    return {
      origin: `http://127.0.0.1:${port}`,
      async processIds() {
        const master = child.pid!;
        const children = await readFile(`/proc/${master}/task/${master}/children`, 'utf8');
        return { master, workers: children.split(' ').filter((pid) => pid !== '').map(Number) };
      },
      async accessLog() {
        const text = await readFile(accessLogPath, 'utf8').catch(() => '');
        return text.split('\n').filter((line) => line !== '').map((line) => {
          const [method, uri, status, upstream] = line.split(' ');
          return { method: method!, uri: uri!, status: Number(status), upstream: upstream! };
        });
      },
      errorLog: () => readFile(errorLogPath, 'utf8').catch(() => ''),
      accessLogChanged: () =>
        new Promise<void>((resolve) => {
          const watcher = watch(accessLogPath, () => {
            watcher.close();
            resolve();
          });
        }),
      async close() {
        if (child.exitCode === null) {
          const exited = once(child, 'exit');
          child.kill('SIGTERM');
          await exited;
        }
        await rm(dir, { recursive: true, force: true });
      },
    };
  }
}
