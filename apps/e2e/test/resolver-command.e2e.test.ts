import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLogger, loadConfig, startProxy, type RunningProxy } from '@strm/proxy';
import { signedEntryUrl } from '@strm/signing';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startFakeCdn, type FakeCdn } from '../src/fake-cdn';
import { createProxyLog, logSink, type ProxyLog } from './support/proxy-log';
import { ipv4Lookup, SECRET } from './support/stack';
import { probe, redact } from './support/tools';

// The resolver command source end to end: real processes (a scripted command, Debian's yt-dlp,
// a stand-in for AniWorld-Downloader's `aniworld`) run by the real proxy, whose answers play
// through it with real clients. Every URL is on loopback.
const root = fileURLToPath(new URL('../../..', import.meta.url));
const adapters = join(root, 'apps', 'proxy', 'adapters');
const scripted = join(root, 'apps', 'e2e', 'test', 'support', 'commands', 'scripted.mjs');
const standInBin = join(root, 'apps', 'e2e', 'fixtures', 'bin');
const node = process.execPath;

let work: string;
let cdn: FakeCdn;
const proxies: RunningProxy[] = [];

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'strm-resolver-command-'));
  cdn = await startFakeCdn({ host: '127.0.0.1' });
});
afterAll(async () => {
  await Promise.all(proxies.map((proxy) => proxy.close(500)));
  await cdn?.close();
  rmSync(work, { recursive: true, force: true });
});

interface CommandProxy {
  proxy: RunningProxy;
  log: ProxyLog;
  entryUrl(identity: { slug: string; season?: number; episode?: number; language?: string; provider?: string }): string;
}

/** The real proxy with STRM_RESOLVER_COMMAND, its JSON log collected. */
async function startCommandProxy(command: string, env: Record<string, string> = {}, now?: () => number): Promise<CommandProxy> {
  const log = createProxyLog();
  const sink = logSink(log);
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    STRM_PROXY_SECRET: SECRET,
    STRM_RESOLVER_COMMAND: command,
    STRM_PROXY_UPSTREAM_ALLOWLIST: '127.0.0.1',
    STRM_PROXY_UPSTREAM_TIMEOUT_MS: '5000',
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? work,
    ...env,
  });
  const proxy = await startProxy(config, { logger: createLogger('info', sink), lookup: ipv4Lookup, ...(now ? { now } : {}) });
  proxies.push(proxy);
  return {
    proxy,
    log,
    entryUrl: ({ slug, season = 1, episode = 3, language = 'German Dub', provider }) =>
      signedEntryUrl(`${proxy.url}/strm/stream`, { site: 'aniworld.to', slug, s: season, e: episode, lang: language, provider }, SECRET),
  };
}

async function get(url: string, headers: Record<string, string> = {}) {
  const response = await request(url, { headers });
  const body = Buffer.from(await response.body.arrayBuffer());
  return { status: response.statusCode, headers: response.headers, body, json: () => JSON.parse(body.toString('utf8')) as { error: { code: string; message: string } } };
}

function runLog(file: string): Array<Record<string, unknown>> {
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as Record<string, unknown>) : [];
}

/** Waits until `pid` is gone (a zombie counts as gone); the kernel ends a killed process shortly after SIGKILL. */
async function processGone(pid: number, withinMs = 5000): Promise<boolean> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    let alive = true;
    try {
      process.kill(pid, 0);
      alive = !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    } catch {
      alive = false;
    }
    if (!alive) return true;
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('STRM_RESOLVER_COMMAND through the proxy (a scripted command)', () => {
  let runs: string;
  let urls: string;
  let clock = Date.parse('2026-01-01T00:00:00Z');
  let zeroTtl: CommandProxy;

  beforeAll(async () => {
    runs = join(work, 'runs.jsonl');
    urls = join(work, 'urls.json');
    zeroTtl = await startCommandProxy(`${node} ${scripted} --slug {slug} --lang "{language}"`, { RUN_LOG: runs, URL_LIST: urls, STRM_RESOLVER_TIMEOUT_MS: '3000' }, () => clock);
  });

  test('without expiresAt and with STRM_PROXY_CACHE_TTL_SECONDS=0 the answer is kept until the upstream fails; the refresh runs with STRM_REFRESH=1', async () => {
    writeFileSync(urls, JSON.stringify([cdn.issue('mp4-faststart/video.mp4', { expireAfterUses: 2 }), cdn.issue('mp4-faststart/video.mp4')]));
    rmSync(runs, { force: true });
    const entry = zeroTtl.entryUrl({ slug: 'cached' });
    expect((await get(entry, { range: 'bytes=0-99' })).status).toBe(206);
    clock += 7 * 24 * 3600 * 1000; // a week later: no TTL, no expiry, still cached
    expect((await get(entry, { range: 'bytes=0-99' })).status).toBe(206);
    expect(runLog(runs).map((run) => run['refresh'])).toEqual(['0']);
    // The first URL is used up: the CDN answers 403, the proxy refreshes through the command.
    const third = await get(entry, { range: 'bytes=100-199' });
    expect(third.status).toBe(206);
    expect(third.body.length).toBe(100);
    expect(runLog(runs)).toEqual([
      { argv: ['--slug', 'cached', '--lang', 'German Dub'], refresh: '0', slug: 'cached', secret: false },
      { argv: ['--slug', 'cached', '--lang', 'German Dub'], refresh: '1', slug: 'cached', secret: false },
    ]);
  });

  test('with STRM_PROXY_CACHE_TTL_SECONDS=60 the command runs again after 60 s', async () => {
    const ttlRuns = join(work, 'ttl-runs.jsonl');
    const ttlUrls = join(work, 'ttl-urls.json');
    writeFileSync(ttlUrls, JSON.stringify([cdn.issue('mp4-faststart/video.mp4'), cdn.issue('mp4-faststart/video.mp4')]));
    let now = Date.parse('2026-01-01T00:00:00Z');
    const ttl = await startCommandProxy(`${node} ${scripted}`, { RUN_LOG: ttlRuns, URL_LIST: ttlUrls, STRM_PROXY_CACHE_TTL_SECONDS: '60' }, () => now);
    const entry = ttl.entryUrl({ slug: 'ttl' });
    expect((await get(entry, { range: 'bytes=0-9' })).status).toBe(206);
    now += 59_000;
    expect((await get(entry, { range: 'bytes=0-9' })).status).toBe(206);
    expect(runLog(ttlRuns)).toHaveLength(1);
    now += 2_000;
    expect((await get(entry, { range: 'bytes=0-9' })).status).toBe(206);
    expect(runLog(ttlRuns).map((run) => run['refresh'])).toEqual(['0', '0']);
  });

  test('exit 2 is a 404 STRM_EPISODE_NOT_FOUND', async () => {
    const answer = await get(zeroTtl.entryUrl({ slug: 'unknown' }));
    expect(answer.status).toBe(404);
    expect(answer.json().error.code).toBe('STRM_EPISODE_NOT_FOUND');
  });

  test('exit 1 is a 502 STRM_RESOLVER_FAILED; the log has the last error line, redacted', async () => {
    const from = zeroTtl.log.logs.length;
    const answer = await get(zeroTtl.entryUrl({ slug: 'broken' }));
    expect(answer.status).toBe(502);
    expect(answer.json().error.code).toBe('STRM_RESOLVER_FAILED');
    const warning = zeroTtl.log.logs.slice(from).find((line) => line['code'] === 'STRM_RESOLVER_UNAVAILABLE');
    expect(warning?.msg).toMatch(/exited 1; expected 0, or 2 for an unknown episode; its last error line: RuntimeError: provider answered 500 for https:\/\/cdn\.example\/…$/);
    expect(JSON.stringify(zeroTtl.log.logs)).not.toContain('SECRET-TOKEN');
    expect(answer.body.toString()).not.toContain('SECRET-TOKEN');
  });

  test('a command that hangs: 502 at STRM_RESOLVER_TIMEOUT_MS, and it and its child are gone', async () => {
    rmSync(runs, { force: true });
    const started = performance.now();
    const answer = await get(zeroTtl.entryUrl({ slug: 'hang' }));
    expect(answer.status).toBe(502);
    expect(answer.json().error.message).toContain('STRM_RESOLVER_TIMEOUT');
    expect(performance.now() - started).toBeGreaterThanOrEqual(2900);
    const [hang] = runLog(runs) as Array<{ pid: number; childPid: number }>;
    expect(await processGone(hang!.pid), `command ${hang!.pid} still runs`).toBe(true);
    expect(await processGone(hang!.childPid), `its child ${hang!.childPid} still runs`).toBe(true);
  });

  test.each(['$(touch MARKER)', '; touch MARKER', '`touch MARKER` && rm -rf MARKER-dir | cat'])('the slug %j reaches the command as text', async (template) => {
    const marker = join(work, 'marker');
    const slug = template.replaceAll('MARKER', marker);
    writeFileSync(urls, JSON.stringify([cdn.url('mp4-faststart/video.mp4')]));
    rmSync(runs, { force: true });
    expect((await get(zeroTtl.entryUrl({ slug }), { range: 'bytes=0-9' })).status).toBe(206);
    expect(runLog(runs)).toEqual([{ argv: ['--slug', slug, '--lang', 'German Dub'], refresh: '0', slug, secret: false }]);
    expect(existsSync(marker)).toBe(false);
  });
});

describe('the AniWorld-Downloader recipe (adapters/aniworld.mjs with a stand-in aniworld)', () => {
  let standIn: CommandProxy;
  let calls: string;

  beforeAll(async () => {
    calls = join(work, 'aniworld-calls.jsonl');
    const links = {
      // The provider's CDN refuses requests without its Referer, as Vidmoly's does.
      Vidmoly: cdn.issue('hls-ts/master.m3u8', { requireReferer: 'https://vidmoly.biz/' }),
      // Same CDN rule for a provider the adapter's table has no headers for: it must fail.
      Streamtape: cdn.issue('hls-ts/master.m3u8', { requireReferer: 'https://vidmoly.biz/' }),
    };
    standIn = await startCommandProxy(`node ${join(adapters, 'aniworld.mjs')} --providers VOE,Vidmoly`, {
      // The recipe's command as written: `aniworld` and `node` found on PATH.
      PATH: `${standInBin}${delimiter}${process.env.PATH ?? ''}`,
      ANIWORLD_STANDIN_LINKS: JSON.stringify(links),
      ANIWORLD_STANDIN_LOG: calls,
    });
  });

  test('builds the episode page URL, falls back from VOE to Vidmoly, adds its Referer: ffprobe plays it through the proxy', async () => {
    const entry = standIn.entryUrl({ slug: 'frieren' });
    const probed = await probe(entry);
    console.log(`aniworld recipe: ffprobe ${redact(entry)} (${probed.run.ms} ms): ${probed.formatName}, ${probed.duration} s, ${probed.streams.join(' | ')}`);
    expect(probed.streams.map((line) => line.split(' ')[1])).toEqual(['audio', 'video', 'video']);
    expect(Number(probed.duration)).toBeCloseTo(4, 0);
    expect(runLog(calls)).toEqual([
      ['-e', 'https://aniworld.to/anime/stream/frieren/staffel-1/episode-3', '-L', 'German Dub', '-p', 'VOE', '-D'],
      ['-e', 'https://aniworld.to/anime/stream/frieren/staffel-1/episode-3', '-L', 'German Dub', '-p', 'Vidmoly', '-D'],
    ]);
  });

  test('a provider the .strm URL names is the only one tried; no link is a 404', async () => {
    rmSync(calls, { force: true });
    const answer = await get(standIn.entryUrl({ slug: 'frieren', episode: 4, provider: 'VOE' }));
    expect(answer.status).toBe(404);
    expect(answer.json().error.code).toBe('STRM_EPISODE_NOT_FOUND');
    expect(runLog(calls)).toEqual([['-e', 'https://aniworld.to/anime/stream/frieren/staffel-1/episode-4', '-L', 'German Dub', '-p', 'VOE', '-D']]);
  });

  test('without the Referer from the table the same CDN refuses (the control case)', async () => {
    const answer = await get(standIn.entryUrl({ slug: 'frieren', episode: 5, provider: 'Streamtape' }));
    expect(answer.status).toBe(403);
    expect(answer.json().error.code).toBe('STRM_UPSTREAM_FAILED');
  });

  test('a slug that is not the site\'s (shell characters) never reaches aniworld: 404', async () => {
    rmSync(calls, { force: true });
    const answer = await get(standIn.entryUrl({ slug: '$(reboot); rm -rf /' }));
    expect(answer.status).toBe(404);
    expect(runLog(calls)).toEqual([]);
  });
});

/**
 * A forward proxy on loopback that answers 403 to everything and counts: yt-dlp is given it as
 * http(s)_proxy with no_proxy=127.0.0.1, so any request to a non-loopback address lands here
 * instead of leaving the machine.
 */
async function startTrap(): Promise<{ server: Server; url: string; hits: string[] }> {
  const hits: string[] = [];
  const server = createServer((req, res) => {
    hits.push(`${req.method} ${req.url}`);
    res.writeHead(403).end();
  });
  server.on('connect', (req, socket) => {
    hits.push(`CONNECT ${req.url}`);
    socket.end('HTTP/1.1 403 Forbidden\r\n\r\n');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, hits };
}

function trapEnv(trapUrl: string): Record<string, string> {
  return { http_proxy: trapUrl, https_proxy: trapUrl, HTTP_PROXY: trapUrl, HTTPS_PROXY: trapUrl, no_proxy: '127.0.0.1,localhost', NO_PROXY: '127.0.0.1,localhost' };
}

describe('the yt-dlp recipe (adapters/yt-dlp.mjs with Debian\'s yt-dlp on a loopback page)', () => {
  let trap: Awaited<ReturnType<typeof startTrap>>;
  let ytDlp: CommandProxy;

  beforeAll(async () => {
    trap = await startTrap();
    ytDlp = await startCommandProxy(`node ${join(adapters, 'yt-dlp.mjs')} ${cdn.origin}/pages/{slug}.html`, trapEnv(trap.url));
  });
  afterAll(() => {
    trap?.server.close();
  });

  test.each(['hls-ts', 'mp4-faststart'])('the page %s plays through the proxy as it plays directly (ffprobe)', async (name) => {
    const fixture = name === 'hls-ts' ? 'hls-ts/master.m3u8' : 'mp4-faststart/video.mp4';
    const entry = ytDlp.entryUrl({ slug: name, language: 'English' });
    const [direct, proxied] = await Promise.all([probe(cdn.url(fixture)), probe(entry)]);
    console.log(`yt-dlp recipe ${name}: ffprobe through the proxy (${proxied.run.ms} ms, yt-dlp included): ${proxied.formatName}, ${proxied.duration} s, ${proxied.streams.join(' | ')}`);
    expect(proxied.streams).toEqual(direct.streams);
    expect(proxied.duration).toBe(direct.duration);
    // What yt-dlp fetched (the page, the master playlist) and what the proxy fetched, all from the CDN on loopback.
    expect(cdn.requests.some((req) => req.resource === `pages/${name}.html`)).toBe(true);
    expect(trap.hits).toEqual([]);
  });

  test('a page that does not exist is a 404 STRM_EPISODE_NOT_FOUND', async () => {
    const answer = await get(ytDlp.entryUrl({ slug: 'no-such-page' }));
    expect(answer.status).toBe(404);
    expect(answer.json().error.code).toBe('STRM_EPISODE_NOT_FOUND');
    expect(trap.hits).toEqual([]);
  });

  test('the trap sees a request to a non-loopback address (the control case: "no request left loopback" can fail)', async () => {
    const run = await runToEnd(node, [join(adapters, 'yt-dlp.mjs'), 'http://video.example.invalid/page.html'], { PATH: process.env.PATH ?? '', HOME: work, ...trapEnv(trap.url) }, 60_000);
    expect(run.status).not.toBe(0);
    expect(trap.hits.some((hit) => hit.includes('video.example.invalid'))).toBe(true);
    trap.hits.length = 0;
  });
});

/**
 * Runs a program to its end without blocking this process (the trap server lives here and must
 * keep answering); kills it after `timeoutMs`.
 */
function runToEnd(program: string, args: string[], env: Record<string, string>, timeoutMs: number): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(program, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

/** A free loopback port (the recipe's fixed ports are replaced by free ones). */
async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Resolves once something accepts connections on the port; rejects after `timeoutMs`. */
async function portOpen(port: number, timeoutMs: number, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (child.exitCode !== null) throw new Error(`the recipe's service exited ${child.exitCode} before listening on ${port}:\n${output().slice(-3000)}`);
    if (Date.now() > deadline) throw new Error(`nothing listens on ${port} after ${timeoutMs} ms:\n${output().slice(-3000)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The fenced block that follows `<!-- marker -->` in the README. */
function readmeBlock(readme: string, marker: string): string {
  const at = readme.indexOf(`<!-- ${marker} -->`);
  expect(at, `README.md has no <!-- ${marker} --> block`).toBeGreaterThanOrEqual(0);
  const match = /```sh\n([\s\S]*?)```/.exec(readme.slice(at));
  return match![1]!;
}

describe('the README\'s yt-dlp recipe, run as written (ports replaced by free ones)', () => {
  const services: ChildProcess[] = [];
  let trap: Awaited<ReturnType<typeof startTrap>>;
  beforeAll(async () => {
    trap = await startTrap();
  });
  afterAll(() => {
    trap?.server.close();
    // Each service leads its own process group (npm → node → the proxy; pnpm → node → the CDN).
    for (const child of services) if (child.pid !== undefined) try { process.kill(-child.pid, 'SIGTERM'); } catch { /* gone */ }
  });

  test('terminal 1 (proxy), terminal 2 (page), terminal 3 (resolve, sign, ffprobe)', async () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const [proxyPort, cdnPort] = [await freePort(), await freePort()];
    const withPorts = (text: string) => text.replaceAll('8080', String(proxyPort)).replaceAll('8081', String(cdnPort));
    const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? work, ...trapEnv(trap.url) };
    const start = (script: string) => {
      let output = '';
      const child = spawn('bash', ['-euo', 'pipefail', '-c', script], { cwd: root, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
      child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
      services.push(child);
      return { child, output: () => output };
    };
    const proxy = start(withPorts(readmeBlock(readme, 'recipe yt-dlp: terminal 1')));
    const page = start(withPorts(readmeBlock(readme, 'recipe yt-dlp: terminal 2')));
    await portOpen(cdnPort, 60_000, page.child, page.output);
    await portOpen(proxyPort, 60_000, proxy.child, proxy.output);
    const client = await runToEnd('bash', ['-euo', 'pipefail', '-c', withPorts(readmeBlock(readme, 'recipe yt-dlp: terminal 3'))], env, 90_000);
    console.log(`README yt-dlp recipe, terminal 3:\n${redact(client.stdout)}`);
    expect(client.status, client.stderr.slice(-3000)).toBe(0);
    expect(client.stdout).toMatch(/^source +command node$/m);
    expect(client.stdout).toMatch(new RegExp(`^url +http://127\\.0\\.0\\.1:${cdnPort}/hls-ts/master\\.m3u8$`, 'm'));
    expect(client.stdout).toMatch(/^headers +.*User-Agent.* \(values hidden\)$/m);
    // What ffprobe reads of hls-ts through the proxy: 4 s, the audio rendition and both video variants.
    expect(client.stdout).toMatch(/^format_name=hls$/m);
    expect(client.stdout).toMatch(/^duration=4\.0+$/m);
    expect(client.stdout).toMatch(/^nb_streams=3$/m);
    expect(trap.hits, 'the recipe sent requests beyond loopback').toEqual([]);
  }, 300_000); // three Node processes from TypeScript sources and a yt-dlp run, on a loaded machine
});
