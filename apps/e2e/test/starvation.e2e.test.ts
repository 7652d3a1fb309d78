import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { signedEntryUrl } from '@strm/signing';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { bigFileBytes, startFakeCdn, type FakeCdn } from '../src/fake-cdn';
import { startFakeResolver, type FakeResolver } from '../src/fake-resolver';
import { startChildProxy, type ChildProxy } from './support/child-proxy';
import { readmeNginxSnippet, startNginxFront, type NginxFront } from './support/nginx';
import { episode, SECRET } from './support/stack';
import { firstFrameDifference, framemd5, runTool } from './support/tools';

// Slow, not lossy: a starved machine may make the proxy late, never make it cut or refuse. The
// starvation is made on purpose: the proxy (and nginx's worker) are stopped with SIGSTOP for 300 ms
// of every 400 ms while players read through nginx with the README's snippet, and once for longer
// than the proxy's 30 s header timeout while a request waits in its socket.
const MiB = 1024 * 1024;
const BIG = 24 * MiB;
const STOP_MS = 300;
const RUN_MS = 100;

/** 12 s at 25 fps (300 frames) of 640x360, about 1 MB per 4 s segment: TS, fMP4 and byte ranges. */
async function encodeLongerHls(dir: string): Promise<void> {
  const source = ['-nostdin', '-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=25:duration=12', '-c:v', 'libx264', '-preset', 'ultrafast', '-qp', '18', '-g', '25', '-pix_fmt', 'yuv420p', '-an', '-f', 'hls', '-hls_time', '4', '-hls_playlist_type', 'vod'];
  const variants: Array<[string, string[]]> = [
    ['long-ts', ['-hls_segment_filename', join(dir, 'long-ts', 'seg%d.ts')]],
    ['long-fmp4', ['-hls_segment_type', 'fmp4', '-hls_fmp4_init_filename', 'init.mp4', '-hls_segment_filename', join(dir, 'long-fmp4', 'seg%d.m4s')]],
    ['long-byterange', ['-hls_flags', 'single_file']],
  ];
  for (const [name, flags] of variants) {
    await mkdir(join(dir, name));
    const run = await runTool('ffmpeg', [...source, ...flags, join(dir, name, 'index.m3u8')]);
    if (run.code !== 0) throw new Error(`could not encode ${name}: ${run.stderr}`);
  }
}

/** Stops `pids` for `STOP_MS` of every `STOP_MS + RUN_MS` until `until` settles; how many stops. */
async function starveWhile<T>(pids: () => Promise<number[]>, until: Promise<T>): Promise<{ result: T; stops: number }> {
  let done = false;
  let stops = 0;
  const loop = (async () => {
    while (!done) {
      const stopped = await pids();
      for (const pid of stopped) process.kill(pid, 'SIGSTOP');
      stops += 1;
      await sleep(STOP_MS);
      for (const pid of stopped) process.kill(pid, 'SIGCONT');
      await sleep(RUN_MS);
    }
  })();
  try {
    return { result: await until, stops };
  } finally {
    done = true;
    await loop;
  }
}

const catalog = ['long-ts', 'long-fmp4', 'long-byterange'].map((name, index) => episode('starved', index + 1, `${name}/index.m3u8`));
const bigEpisode = episode('starved', 9, `big/${BIG}.bin`);
let mediaDir: string;
let cdn: FakeCdn;
let resolver: FakeResolver;
let proxy: ChildProxy;
let front: NginxFront;

beforeAll(async () => {
  mediaDir = await mkdtemp(join(tmpdir(), 'strm-e2e-starved-'));
  await encodeLongerHls(mediaDir);
  cdn = await startFakeCdn({ host: '127.0.0.1', mediaDir });
  resolver = await startFakeResolver({ cdn, catalog: [...catalog, bigEpisode] });
  proxy = await startChildProxy({ STRM_PROXY_SECRET: SECRET, STRM_RESOLVER_URL: resolver.url, STRM_PROXY_UPSTREAM_ALLOWLIST: '127.0.0.1' });
  front = await startNginxFront(await readmeNginxSnippet(), new URL(proxy.url).host);
});
afterAll(async () => {
  // Never leave a stopped process behind a failed test.
  if (proxy?.alive()) process.kill(proxy.pid, 'SIGCONT');
  await front?.close();
  await proxy?.close();
  await resolver?.close();
  await cdn?.close();
  if (mediaDir !== undefined) await rm(mediaDir, { recursive: true, force: true });
});

const entryThroughFront = (identity: (typeof catalog)[number]) =>
  signedEntryUrl(`${front.origin}/anime/strm/stream`, { site: identity.site, slug: identity.slug, s: identity.season, e: identity.episode, lang: identity.language }, SECRET);

/** Lines of nginx's error log that say the proxy failed it (a reset, an early close, a timeout). */
async function upstreamErrors(): Promise<string[]> {
  return (await front.errorLog()).split('\n').filter((line) => /upstream|recv\(\) failed|reset by peer/.test(line));
}

describe('behind nginx, the proxy stopped 300 ms of every 400 ms: slow, not lossy', () => {
  test.each(catalog.map((entry) => [entry.slug, entry] as const).map(([, entry], index) => [['TS', 'fMP4', 'byte-range'][index]!, entry] as const))(
    'ffmpeg decodes the %s playlist to the same 300 frames as directly',
    async (_name, entry) => {
      const direct = await framemd5(cdn.issue(entry.path));
      const { result: fronted, stops } = await starveWhile(async () => [proxy.pid], framemd5(entryThroughFront(entry)));
      console.log(`starved ${entry.path}: ${fronted.frames.length} of ${direct.frames.length} frames through nginx, the proxy stopped ${stops} times (${fronted.run.ms} ms)`);
      expect(direct.frames.length).toBe(300);
      expect(firstFrameDifference(direct, fronted)).toBeUndefined();
      expect(await upstreamErrors()).toEqual([]);
    },
  );

  test('four 24 MiB bodies read while the proxy and nginx take turns being stopped: every byte, and each ends cleanly at its Content-Length', async () => {
    const url = signedEntryUrl(`${front.origin}/anime/strm/stream`, { site: bigEpisode.site, slug: bigEpisode.slug, s: 1, e: bigEpisode.episode, lang: bigEpisode.language }, SECRET);
    const agent = new Agent({ headersTimeout: 120_000, bodyTimeout: 120_000 });
    const expected = bigFileBytes(0, BIG);
    const readOne = async () => {
      const response = await request(url, { dispatcher: agent });
      const chunks: Buffer[] = [];
      for await (const chunk of response.body) chunks.push(chunk as Buffer);
      return { status: response.statusCode, length: Number(response.headers['content-length']), body: Buffer.concat(chunks) };
    };
    let turn = 0;
    const { result, stops } = await starveWhile(
      async () => (turn++ % 2 === 0 ? [proxy.pid] : (await front.processIds()).workers),
      Promise.all([readOne(), readOne(), readOne(), readOne()]),
    );
    await agent.close();
    console.log(`starved big bodies: ${result.map((r) => `${r.status} ${r.body.length}/${r.length}`).join(', ')} after ${stops} stops`);
    for (const { status, length, body } of result) {
      expect(status).toBe(200);
      expect(length).toBe(BIG);
      expect(body.equals(expected)).toBe(true);
    }
    expect(await upstreamErrors()).toEqual([]);
  });
});

describe('a request that reached the proxy while it was stopped longer than its header timeout', () => {
  test('is answered once the proxy runs again, not refused with a 408 or a reset', async () => {
    const entry = catalog[0]!;
    const target = new URL(signedEntryUrl(`${proxy.url}/strm/stream`, { site: entry.site, slug: entry.slug, s: 1, e: entry.episode, lang: entry.language }, SECRET));
    const socket = connect(Number(target.port), target.hostname);
    const answer = new Promise<string>((resolve) => {
      let text = '';
      socket.setEncoding('latin1').on('data', (chunk: string) => (text += chunk));
      socket.on('close', () => resolve(text));
      socket.on('error', () => resolve(`${text}(reset)`));
    });
    await new Promise((resolve) => socket.once('connect', resolve));
    // The proxy accepts connections in order: once a later connection was answered, this one was accepted.
    await (await request(`${proxy.url}/healthz`)).body.dump();
    process.kill(proxy.pid, 'SIGSTOP');
    try {
      socket.write(`GET ${target.pathname}${target.search} HTTP/1.1\r\nHost: ${target.host}\r\nConnection: close\r\n\r\n`);
      await sleep(32_000); // the stall itself, longer than the 30 s header timeout
    } finally {
      process.kill(proxy.pid, 'SIGCONT');
    }
    const text = await answer;
    console.log(`after a 32 s stop: ${text.split('\r\n')[0]}`);
    expect(text.split('\r\n')[0]).toBe('HTTP/1.1 200 OK');
    expect(text).toContain('#EXTM3U');
  }, 90_000);
});
