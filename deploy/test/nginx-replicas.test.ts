// deploy/compose/replicas/nginx.conf run for real: host nginx with that file, its one change being
// the addresses (the compose service name `strm` becomes two real proxies on loopback, the listen
// port a free one), in front of two replicas serving from the fake CDN. ffprobe plays an HLS
// episode through it, every segment a request of its own, and a Range request comes back exact.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { promisify } from 'node:util';
import { fixtureMediaDir, startFakeCdn, type FakeCdn } from '@strm/e2e';
import { loadConfig, startProxy, type RunningProxy } from '@strm/proxy';
import { signedEntryUrl } from '@strm/signing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freeLoopbackPort } from '../../tools/testing/redis-server';
import { deployDir, readText } from './support';

const secret = 'nginx-replicas-test-secret';
const prefix = mkdtempSync(join(tmpdir(), 'strm-nginx-'));
let cdn: FakeCdn;
const replicas: RunningProxy[] = [];
const hits = [0, 0];
let nginx: ChildProcess | undefined;
let nginxStderr = '';
let balancer = '';

const errorLog = (): string => {
  try {
    return readFileSync(join(prefix, 'error.log'), 'utf8').slice(-2000);
  } catch {
    return '';
  }
};

/** Resolves once something accepts on the port (nginx has no ready message to wait for). */
async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const accepted = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (accepted) return;
    if (Date.now() > deadline || nginx?.exitCode !== null) throw new Error(`nginx did not listen on ${port}: ${nginxStderr} ${errorLog()}`);
    await delay(50);
  }
}

/** The compose file's nginx.conf with loopback addresses, and paths inside the temporary prefix. */
function localConf(template: string, replicaHosts: string[], port: number): string {
  const server = /^(\s*)server strm:8080 (.*);$/m.exec(template);
  const listen = /^(\s*)listen 8080;$/m.exec(template);
  expect(server, 'nginx.conf: server strm:8080').not.toBeNull();
  expect(listen, 'nginx.conf: listen 8080').not.toBeNull();
  return template
    .replace(server![0], replicaHosts.map((host) => `${server![1]}server ${host} ${server![2]};`).join('\n'))
    .replace(listen![0], `${listen![1]}listen 127.0.0.1:${port};`)
    .replace(/^http \{$/m, ['http {', `access_log ${prefix}/access.log;`, ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((name) => `${name}_temp_path ${prefix}/${name};`)].join('\n    '));
}

const entryUrl = (episode: number) =>
  signedEntryUrl(`${balancer}/strm/stream`, { site: 'aniworld.to', slug: 'nginx', s: '1', e: String(episode), lang: 'English' }, secret);

beforeAll(async () => {
  cdn = await startFakeCdn({ host: '127.0.0.1' });
  const episodes = join(prefix, 'episodes.json');
  writeFileSync(episodes, JSON.stringify({
    entries: [
      { site: 'aniworld.to', slug: 'nginx', season: 1, episode: 1, language: 'English', url: cdn.url('mp4-faststart/video.mp4') },
      { site: 'aniworld.to', slug: 'nginx', season: 1, episode: 2, language: 'English', url: cdn.url('hls-ts/master.m3u8') },
    ],
  }));
  for (const index of [0, 1]) {
    const proxy = await startProxy(loadConfig({
      PORT: '0', HOST: '127.0.0.1', STRM_PROXY_SECRET: secret, STRM_RESOLVER_FILE: episodes,
      STRM_PROXY_UPSTREAM_ALLOWLIST: '127.0.0.1', LOG_LEVEL: 'silent',
    }));
    proxy.server.on('request', () => (hits[index]! += 1));
    replicas.push(proxy);
  }
  const port = await freeLoopbackPort();
  balancer = `http://127.0.0.1:${port}`;
  const conf = localConf(readText(join(deployDir, 'compose/replicas/nginx.conf')), replicas.map((proxy) => new URL(proxy.url).host), port);
  writeFileSync(join(prefix, 'nginx.conf'), conf);
  // One process (no workers switching to another user), pid file and logs in the prefix.
  nginx = spawn('nginx', ['-p', prefix, '-e', join(prefix, 'error.log'), '-c', join(prefix, 'nginx.conf'), '-g', `daemon off; master_process off; pid ${prefix}/nginx.pid;`], { stdio: ['ignore', 'ignore', 'pipe'] });
  nginx.stderr!.setEncoding('utf8').on('data', (chunk: string) => (nginxStderr += chunk));
  await waitForPort(port, 10_000);
}, 30_000);

afterAll(async () => {
  if (nginx && nginx.exitCode === null) {
    const exited = new Promise((resolve) => nginx!.once('exit', resolve));
    nginx.kill('SIGTERM');
    await exited;
  }
  for (const proxy of replicas) await proxy.close(0);
  await cdn?.close();
  rmSync(prefix, { recursive: true, force: true });
});

describe('nginx in front of the replicas (compose/replicas/nginx.conf)', () => {
  it('ffprobe plays an HLS episode through it, and least_conn spreads the requests over both replicas', async () => {
    const { stdout } = await promisify(execFile)('ffprobe', ['-v', 'error', '-count_packets', '-show_entries', 'stream=codec_type,nb_read_packets', '-of', 'csv=p=0', entryUrl(2)], { timeout: 60_000 });
    const streams = stdout.trim().split('\n');
    expect(streams.some((line) => line.startsWith('video,'))).toBe(true);
    expect(streams.some((line) => line.startsWith('audio,'))).toBe(true);
    expect(hits[0]).toBeGreaterThan(0);
    expect(hits[1]).toBeGreaterThan(0);
  });

  it('passes a Range request through: 206 with exactly the bytes asked for', async () => {
    const file = readFileSync(join(fixtureMediaDir, 'mp4-faststart/video.mp4'));
    const response = await fetch(entryUrl(1), { headers: { range: 'bytes=1000-1999' } });
    expect(response.status).toBe(206);
    expect(response.headers.get('content-range')).toBe(`bytes 1000-1999/${file.length}`);
    expect(Buffer.from(await response.arrayBuffer()).equals(file.subarray(1000, 2000))).toBe(true);
  });
});
