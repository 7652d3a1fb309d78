// The container smoke test behind tools/container/smoke.sh, which builds the image and runs this
// with the engine and the image name: node --conditions=@strm/source --import tsx smoke.ts <engine> <image>
//
// It runs the image the way the README tells operators to (read-only root, uid 10001, no
// capabilities), with a static resolver file mounted and the fake CDN of apps/e2e on this host's
// loopback (the container shares the host network, so every byte stays on 127.0.0.1), and checks
// what an operator relies on: /healthz and the HEALTHCHECK, check-config, a non-root PID 1 running
// the compiled dist, an MP4 and an HLS episode played through it by ffprobe, the demo, and a
// graceful SIGTERM during a running stream. It prints the figures the README quotes.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { get as httpGet, type IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { promisify } from 'node:util';
import { startFakeCdn } from '@strm/e2e';
import { request } from 'undici';
import { freeLoopbackPort } from '../testing/redis-server';

const run = promisify(execFile);
const [engine, image] = process.argv.slice(2);
if (!engine || !image) {
  process.stderr.write('usage: smoke.ts <docker|podman> <image>\n');
  process.exit(2);
}

const secret = 'smoke-test-secret-0123456789abcdef';
const uid = '10001';
const BIG_BYTES = 48 * 1024 * 1024;
const figures: Record<string, string> = {};
let failures = 0;
const containers: string[] = [];

function check(ok: boolean, what: string, detail = ''): void {
  if (!ok) failures += 1;
  process.stdout.write(`${ok ? 'ok  ' : 'FAIL'} ${what}${detail ? `: ${detail}` : ''}\n`);
}

/** Runs the engine and returns its output; never throws, so one failed check does not hide the others. */
async function engineRun(args: string[], timeoutMs = 60_000): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(engine!, args, { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number | string; stdout?: string; stderr?: string };
    return { code: typeof failed.code === 'number' ? failed.code : 1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? String(error) };
  }
}

/** Waits until `url` answers 200, for at most `timeoutMs`; returns the milliseconds it took, or undefined. */
async function waitFor200(url: string, timeoutMs: number): Promise<number | undefined> {
  const started = performance.now();
  while (performance.now() - started < timeoutMs) {
    try {
      const response = await request(url, { headersTimeout: 1000, bodyTimeout: 1000 });
      await response.body.dump();
      if (response.statusCode === 200) return performance.now() - started;
    } catch {
      // not listening yet
    }
    await delay(50); // a poll interval: the container's port has no event to wait on from here
  }
  return undefined;
}

/** The security flags every container of this test runs with (README: "Install", container). */
function hardened(): string[] {
  const flags = ['--read-only', '--user', uid, '--cap-drop', 'ALL', '--security-opt', 'no-new-privileges', '--network', 'host'];
  // podman mounts writable tmpfs on /tmp, /run and /var/tmp under --read-only; docker does not.
  // Without them here, the test proves the proxy writes nowhere on either engine.
  if (engine === 'podman') flags.push('--read-only-tmpfs=false');
  return flags;
}

async function ffprobeStreams(url: string): Promise<string[]> {
  // -count_packets reads the whole episode, so every segment and range has to come through.
  const { stdout } = await run('ffprobe', ['-v', 'error', '-count_packets', '-show_entries', 'stream=codec_type,nb_read_packets', '-of', 'csv=p=0', url], { timeout: 60_000 });
  return stdout.trim().split('\n').filter((line) => line !== '');
}

async function signedUrl(container: string, base: string, episode: number): Promise<string> {
  const signed = await engineRun(['exec', '-e', `STRM_PROXY_SECRET=${secret}`, container, 'strm-proxy', 'sign', '--base-url', base, '--slug', 'smoke', '--season', '1', '--episode', String(episode), '--lang', 'English']);
  if (signed.code !== 0) throw new Error(`strm-proxy sign in the container failed: ${signed.stderr.trim()}`);
  return signed.stdout.trim();
}

/**
 * Reads a response at about `bytesPerSecond`, calling `onProgress` with the bytes so far. Node's
 * http client rather than undici: undici 7.30 fails a body whose last chunk is still held back by
 * backpressure when the server closes the connection ("other side closed", nodejs/undici#5360),
 * which is exactly what a slow reader sees from a proxy that exits after its last response.
 */
async function readThrottled(url: string, bytesPerSecond: number, onProgress: (bytes: number) => void): Promise<{ status: number; length: number; received: number; error?: string }> {
  const response = await new Promise<IncomingMessage>((resolve, reject) => httpGet(url, resolve).once('error', reject));
  const length = Number(response.headers['content-length']);
  let received = 0;
  const started = performance.now();
  try {
    for await (const chunk of response) {
      received += (chunk as Buffer).length;
      onProgress(received);
      const ahead = received / bytesPerSecond - (performance.now() - started) / 1000;
      if (ahead > 0) await delay(ahead * 1000); // the throttle itself, not a synchronization
    }
  } catch (error) {
    return { status: response.statusCode ?? 0, length, received, error: (error as Error).message };
  }
  // A body cut short by the server ends as 'aborted' rather than with an error.
  if (!response.complete) return { status: response.statusCode ?? 0, length, received, error: 'aborted' };
  return { status: response.statusCode ?? 0, length, received };
}

async function main(): Promise<void> {
  const workDir = mkdtempSync(join(tmpdir(), 'strm-smoke-'));
  const cdn = await startFakeCdn({ host: '127.0.0.1' });
  try {
    const episodes = {
      entries: [
        { site: 'aniworld.to', slug: 'smoke', season: 1, episode: 1, language: 'English', url: cdn.url('mp4-faststart/video.mp4') },
        { site: 'aniworld.to', slug: 'smoke', season: 1, episode: 2, language: 'English', url: cdn.url('hls-ts/master.m3u8') },
        { site: 'aniworld.to', slug: 'smoke', season: 1, episode: 3, language: 'English', url: cdn.url(`big/${BIG_BYTES}.bin`) },
      ],
    };
    const resolverFile = join(workDir, 'episodes.json');
    writeFileSync(resolverFile, JSON.stringify(episodes));

    const size = await engineRun(['image', 'inspect', '--format', '{{.Size}}', image!]);
    const user = await engineRun(['image', 'inspect', '--format', '{{.Config.User}}', image!]);
    figures['image size'] = `${(Number(size.stdout.trim()) / 1e6).toFixed(0)} MB`;
    check(user.stdout.trim().startsWith(uid), 'the image runs as a non-root user by default', `User ${JSON.stringify(user.stdout.trim())}`);

    const bad = await engineRun(['run', '--rm', ...hardened(), '-e', 'STRM_PROXY_SECRET=', image!, 'serve']);
    check(bad.code !== 0 && bad.stderr.includes('invalid configuration') && bad.stderr.includes('STRM_PROXY_SECRET'), 'serve without configuration exits non-zero and names what is missing', `exit ${bad.code}`);

    const port = await freeLoopbackPort();
    const base = `http://127.0.0.1:${port}`;
    const name = `strm-smoke-${process.pid}`;
    const started = performance.now();
    const started200 = await engineRun([
      'run', '-d', '--name', name, ...hardened(),
      '-v', `${resolverFile}:/config/episodes.json:ro`,
      '-e', `PORT=${port}`, '-e', 'HOST=127.0.0.1', '-e', `STRM_PROXY_SECRET=${secret}`,
      '-e', 'STRM_RESOLVER_FILE=/config/episodes.json', '-e', 'STRM_PROXY_UPSTREAM_ALLOWLIST=127.0.0.1',
      image!,
    ]);
    containers.push(name);
    check(started200.code === 0, `${engine} run -d (read-only, uid ${uid}, no capabilities)`, started200.stderr.trim().split('\n').filter((line) => !line.includes('systemd')).join(' '));
    const healthyAfter = await waitFor200(`${base}/healthz`, 30_000);
    check(healthyAfter !== undefined, 'GET /healthz answers 200');
    figures['start to first /healthz 200'] = `${((performance.now() - started) / 1000).toFixed(1)} s (engine run included)`;
    if (healthyAfter === undefined) {
      process.stdout.write((await engineRun(['logs', name])).stderr);
      return;
    }
    check((await waitFor200(`${base}/readyz`, 5000)) !== undefined, 'GET /readyz answers 200');

    // The image's HEALTHCHECK: podman runs it on demand; docker on its interval, read from inspect.
    if (engine === 'podman') {
      const health = await engineRun(['healthcheck', 'run', name]);
      check(health.code === 0, 'the image HEALTHCHECK passes', `exit ${health.code} ${health.stdout.trim()}`);
    } else {
      const health = await engineRun(['exec', name, 'node', '/app/container/healthcheck.mjs']);
      check(health.code === 0, 'the image HEALTHCHECK command passes', `exit ${health.code}`);
    }

    const config = await engineRun(['exec', name, 'strm-proxy', 'check-config']);
    check(config.code === 0 && config.stdout.startsWith('configuration ok') && !config.stdout.includes(secret), 'strm-proxy check-config in the container', config.stdout.split('\n')[0]);

    const status = await engineRun(['exec', name, 'cat', '/proc/1/status', '/proc/1/cmdline']);
    const uids = /^Uid:\s+(\d+)\s+(\d+)/m.exec(status.stdout);
    check(uids?.[1] === uid && uids[2] === uid, 'PID 1 runs as uid 10001 (not root)', uids ? `Uid ${uids[1]}/${uids[2]}` : status.stderr);
    // Node itself must be PID 1: a shell there would swallow SIGTERM.
    const cmdline = status.stdout.slice(status.stdout.lastIndexOf('\n') + 1).split('\0').filter(Boolean);
    check(cmdline[0] === 'node' && cmdline[1] === '/usr/local/bin/strm-proxy' && cmdline[2] === 'serve', 'PID 1 is node running strm-proxy serve', cmdline.join(' '));
    const capabilities = /^CapEff:\s+(\w+)/m.exec(status.stdout)?.[1];
    check(capabilities !== undefined && /^0+$/.test(capabilities), 'PID 1 has no capabilities', `CapEff ${capabilities}`);
    const layout = await engineRun(['exec', name, 'node', '-e', `
      const fs = require('fs');
      const p = require('/app/package.json');
      console.log(JSON.stringify({ bin: p.bin, dist: fs.existsSync('/app/dist/cli.js'), src: fs.existsSync('/app/src'),
        adapters: fs.existsSync('/app/adapters/yt-dlp.mjs') && fs.existsSync('/app/adapters/aniworld.mjs'),
        tsx: fs.existsSync('/app/node_modules/tsx'), typescript: fs.existsSync('/app/node_modules/typescript'),
        writable: (() => { try { fs.writeFileSync('/app/x', ''); return true; } catch { return false; } })() }));`]);
    const facts = JSON.parse(layout.stdout || '{}') as Record<string, unknown>;
    check(facts.dist === true && facts.src === false && facts.tsx === false && facts.typescript === false, 'the image runs the compiled dist (no sources, no tsx, no typescript)', layout.stdout.trim());
    check(facts.adapters === true, 'the resolver-command adapters the README names are in /app/adapters');
    check(facts.writable === false, 'the root filesystem is read-only');

    const mp4 = await ffprobeStreams(await signedUrl(name, base, 1)).catch((error: Error) => [error.message]);
    check(mp4.some((line) => line.startsWith('video,')) && mp4.some((line) => line.startsWith('audio,')), 'ffprobe plays the MP4 episode through the container', mp4.join(' '));
    const hls = await ffprobeStreams(await signedUrl(name, base, 2)).catch((error: Error) => [error.message]);
    check(hls.some((line) => line.startsWith('video,')) && hls.some((line) => line.startsWith('audio,')), 'ffprobe plays the HLS episode through the container', hls.join(' '));

    // SIGTERM while a 48 MB stream is read at 16 MB/s: the stream must finish whole and the
    // process exit 0 on its own, well before the engine would kill it.
    let sigtermSentAt: number | undefined;
    let exit: Promise<{ code: number; stdout: string }> | undefined;
    const stream = await readThrottled(await signedUrl(name, base, 3), 16 * 1024 * 1024, (bytes) => {
      if (sigtermSentAt !== undefined || bytes < 4 * 1024 * 1024) return;
      sigtermSentAt = performance.now();
      exit = engineRun(['kill', '--signal', 'TERM', name]).then(() => engineRun(['wait', name], 30_000));
    });
    check(stream.status === 200 && stream.error === undefined && stream.received === stream.length && stream.length === BIG_BYTES,
      'a stream running at SIGTERM is delivered whole', `${stream.received} of ${stream.length} bytes${stream.error ? `, ${stream.error}` : ''}`);
    if (exit !== undefined && sigtermSentAt !== undefined) {
      const waited = await exit;
      const seconds = (performance.now() - sigtermSentAt) / 1000;
      figures['SIGTERM to exit (a 48 MB stream running)'] = `${seconds.toFixed(1)} s`;
      check(waited.stdout.trim() === '0', 'the container exits 0 after SIGTERM', `exit code ${waited.stdout.trim()}`);
      check(seconds < 13, 'it exits within the 10 s drain bound (plus the engine)', `${seconds.toFixed(1)} s`);
      const logs = await engineRun(['logs', name]);
      check(`${logs.stdout}${logs.stderr}`.includes('SIGTERM, finishing running streams'), 'the proxy logged its graceful shutdown');
    } else check(false, 'SIGTERM was sent during the stream');

    // SIGTERM while a client holds a stream without reading (a paused player): the drain is
    // bounded, so the process cuts that stream after 10 s and still exits 0, and the client sees
    // a broken body, never a short one presented as complete.
    const stalledName = `${name}-stalled`;
    const stalledPort = await freeLoopbackPort();
    await engineRun([
      'run', '-d', '--name', stalledName, ...hardened(),
      '-v', `${resolverFile}:/config/episodes.json:ro`,
      '-e', `PORT=${stalledPort}`, '-e', 'HOST=127.0.0.1', '-e', `STRM_PROXY_SECRET=${secret}`,
      '-e', 'STRM_RESOLVER_FILE=/config/episodes.json', '-e', 'STRM_PROXY_UPSTREAM_ALLOWLIST=127.0.0.1',
      image!,
    ]);
    containers.push(stalledName);
    const stalledBase = `http://127.0.0.1:${stalledPort}`;
    if ((await waitFor200(`${stalledBase}/healthz`, 30_000)) === undefined) check(false, 'the second container answers /healthz');
    else {
      const held = await request(await signedUrl(stalledName, stalledBase, 3), { headersTimeout: 10_000, bodyTimeout: 60_000 });
      const heldLength = Number(held.headers['content-length']);
      const sentAt = performance.now();
      const stopped = await engineRun(['kill', '--signal', 'TERM', stalledName]).then(() => engineRun(['wait', stalledName], 30_000));
      const stalledSeconds = (performance.now() - sentAt) / 1000;
      let heldReceived = 0;
      let heldError = '';
      try {
        for await (const chunk of held.body) heldReceived += (chunk as Buffer).length;
      } catch (error) {
        heldError = (error as Error).message;
      }
      figures['SIGTERM to exit (a stalled client holding a stream)'] = `${stalledSeconds.toFixed(1)} s`;
      check(stopped.stdout.trim() === '0', 'with a stalled stream, the container still exits 0', `exit code ${stopped.stdout.trim()}`);
      check(stalledSeconds >= 9 && stalledSeconds < 13, 'it waits for the stream about the 10 s drain bound, no longer', `${stalledSeconds.toFixed(1)} s`);
      check(heldError !== '' && heldReceived < heldLength, 'the cut stream ends in an error, not as a complete body', `${heldReceived} of ${heldLength} bytes, ${heldError || 'no error'}`);
    }

    // The demo: its own fake CDN and resolver inside the container; /tmp is the one writable path it needs.
    const demoPort = await freeLoopbackPort();
    const demoName = `${name}-demo`;
    const demoStarted = await engineRun(['run', '-d', '--name', demoName, ...hardened(), '--tmpfs', '/tmp', '-e', `PORT=${demoPort}`, image!, 'demo']);
    containers.push(demoName);
    check(demoStarted.code === 0, `${engine} run … demo`);
    let demoUrl: string | undefined;
    for (let attempt = 0; attempt < 200 && demoUrl === undefined; attempt += 1) {
      const logs = await engineRun(['logs', demoName]);
      demoUrl = new RegExp(`http://127\\.0\\.0\\.1:${demoPort}/strm/stream\\S+e=3\\S+`).exec(logs.stdout)?.[0];
      if (demoUrl === undefined) await delay(100); // a poll interval: the banner is the demo's ready signal
    }
    const demo = demoUrl ? await ffprobeStreams(demoUrl).catch((error: Error) => [error.message]) : ['no URL printed'];
    check(demo.some((line) => line.startsWith('video,')), 'the demo prints URLs that ffprobe plays', demo.join(' '));
  } finally {
    for (const container of containers) await engineRun(['rm', '--force', container]);
    await cdn.close();
    rmSync(workDir, { recursive: true, force: true });
  }
}

// Interrupted (Ctrl-C, a CI timeout): remove the containers, which would otherwise keep running
// on the host network after this process is gone.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void Promise.all(containers.map((container) => engineRun(['rm', '--force', container]))).then(() => process.exit(130));
  });
}

try {
  await main();
} catch (error) {
  // Whatever broke (an engine command, a lost container) is one more failed check, not a stack trace.
  check(false, 'the smoke test ran to its end', (error as Error).message);
}
process.stdout.write(`\nfigures (${engine}):\n${Object.entries(figures).map(([key, value]) => `  ${key}: ${value}`).join('\n')}\n`);
process.stdout.write(`container smoke: ${failures === 0 ? 'passed' : `${failures} check(s) failed`}\n`);
process.exit(failures === 0 ? 0 : 1);
