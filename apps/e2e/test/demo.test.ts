import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { outputUntilClose } from '../../../tools/testing/child-output';

// `npm start` with no configuration runs this demo; its printed URLs must play, its mistakes
// must be one line, and it must leave nothing behind. Each demo gets a TMPDIR and a state folder
// of its own, so "nothing left" is checked without looking at other programs' files.
const DEMO = join(import.meta.dirname, '..', 'src', 'demo.ts');
const work = mkdtempSync(join(tmpdir(), 'strm-demo-test-'));
const stateHome = join(work, 'state');
afterAll(() => rmSync(work, { recursive: true, force: true }));

let runs = 0;
function demoEnv(env: Record<string, string>) {
  runs += 1;
  const tmp = join(work, `tmp-${runs}`);
  mkdirSync(tmp);
  return { tmp, env: { PATH: process.env.PATH ?? '', TMPDIR: tmp, XDG_STATE_HOME: stateHome, PORT: '0', HOST: '127.0.0.1', ...env } };
}

interface RunningDemo {
  child: ChildProcessWithoutNullStreams;
  tmp: string;
  /** Everything printed up to the closing command line. */
  ready: Promise<string>;
}

function startDemo(env: Record<string, string> = {}): RunningDemo {
  const { tmp, env: fullEnv } = demoEnv(env);
  const child = spawn(process.execPath, ['--conditions=@strm/source', '--import', 'tsx', DEMO], { env: fullEnv, stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  let errors = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    errors += chunk;
  });
  const ready = new Promise<string>((resolve, reject) => {
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
      if (/ npm start\n$/.test(output)) resolve(output);
    });
    child.once('exit', (code) => reject(new Error(`the demo exited with ${code} before it was ready:\n${output}${errors}`)));
  });
  return { child, tmp, ready };
}

/** A demo run to its end; asynchronous, so the test worker keeps answering vitest meanwhile. */
async function runDemo(env: Record<string, string>) {
  const { tmp, env: fullEnv } = demoEnv(env);
  const child = spawn(process.execPath, ['--conditions=@strm/source', '--import', 'tsx', DEMO], { env: fullEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  return { ...(await outputUntilClose(child)), tmp };
}

/** What the demo left in its TMPDIR (tsx keeps its compile cache there too, which is not the demo's). */
const leftBehind = (tmp: string) => readdirSync(tmp).filter((name) => name.startsWith('strm-'));

const entryUrls = (printed: string, host = '127\\.0\\.0\\.1') => [...new Set(printed.match(new RegExp(`http://${host}:\\d+/strm/stream\\?\\S+&sig=[0-9a-f]{64}`, 'g')))];

const main = startDemo();
afterAll(async () => {
  if (main.child.exitCode === null) {
    main.child.kill('SIGTERM');
    await once(main.child, 'exit');
  }
});

describe('the demo (npm start without configuration)', () => {
  test('prints one signed URL per demo episode, and ffprobe opens each through the proxy', async () => {
    const printed = await main.ready;
    const urls = entryUrls(printed);
    expect(urls).toHaveLength(5);
    for (const url of urls) {
      const probe = spawnSync('ffprobe', ['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', url], { encoding: 'utf8', timeout: 30_000 });
      console.log(`demo: ffprobe ${url.replace(/sig=\w+/, 'sig=…')} → duration ${probe.stdout.trim()}`);
      expect(probe.status, probe.stderr).toBe(0);
      expect(Number(probe.stdout.trim())).toBeGreaterThan(3.5);
    }
  });

  test('keeps its secret in a 0600 file under the state folder, and ends with the command that runs the real proxy', async () => {
    const printed = await main.ready;
    const secretFile = join(stateHome, 'strm', 'demo-secret');
    expect(statSync(secretFile).mode & 0o777).toBe(0o600);
    expect(readFileSync(secretFile, 'utf8').trim().length).toBeGreaterThanOrEqual(32);
    expect(printed.trimEnd().split('\n').at(-1)).toBe(`  STRM_PROXY_SECRET="$(cat '${secretFile}')" STRM_RESOLVER_URL=http://<your resolver>:<port> npm start`);
  });

  test('stops cleanly on SIGTERM, and its temporary folder goes with it', async () => {
    await main.ready;
    expect(leftBehind(main.tmp)).toHaveLength(1);
    main.child.kill('SIGTERM');
    const [code] = await once(main.child, 'exit');
    expect(code).toBe(0);
    expect(leftBehind(main.tmp)).toEqual([]);
  });

  test('HOST=0.0.0.0: URLs for this machine and each non-loopback address; Ctrl-C (SIGINT) leaves nothing; the secret is the same as the first run', async () => {
    const first = await main.ready;
    const demo = startDemo({ HOST: '0.0.0.0' });
    const printed = await demo.ready;
    const expected = Object.values(networkInterfaces()).flat().filter((address) => address !== undefined && !address.internal && address.family === 'IPv4').map((address) => address!.address);
    const hosts = [...new Set(entryUrls(printed, '[0-9.]+').map((url) => new URL(url).hostname))];
    // This machine first, then each of its network addresses.
    expect(hosts[0]).toBe('127.0.0.1');
    expect(hosts.slice(1).sort()).toEqual([...new Set(expected)].sort());
    expect(entryUrls(printed, '[0-9.]+')).toHaveLength(5 * hosts.length);
    // Same secret: the same episode has the same signed query as in the first run.
    const query = (url: string) => new URL(url).search;
    expect(entryUrls(printed, '[0-9.]+').slice(0, 5).map(query)).toEqual(entryUrls(first).map(query));
    demo.child.kill('SIGINT');
    const [code] = await once(demo.child, 'exit');
    expect(code).toBe(0);
    expect(leftBehind(demo.tmp)).toEqual([]);
  });

  test('a state folder it cannot write: the demo still runs, says so once, and leaves nothing behind', async () => {
    writeFileSync(join(work, 'not-a-folder'), 'a file where a folder would go\n');
    const demo = startDemo({ XDG_STATE_HOME: join(work, 'not-a-folder', 'state') });
    let stderr = '';
    demo.child.stderr.on('data', (chunk: string) => {
      stderr += chunk;
    });
    const printed = await demo.ready;
    expect(entryUrls(printed)).toHaveLength(5);
    expect(stderr).toMatch(/^strm demo: could not keep the demo secret in .*not-a-folder\/state\/strm\/demo-secret \(ENOTDIR\); this run's URLs stop working when it stops/);
    expect(printed).toContain('STRM_PROXY_SECRET="$(openssl rand -hex 32)" STRM_RESOLVER_URL=');
    demo.child.kill('SIGTERM');
    const [code] = await once(demo.child, 'exit');
    expect(code).toBe(0);
    expect(leftBehind(demo.tmp)).toEqual([]);
  });

  test.each([
    ['PORT=80x', { PORT: '80x' }, 'strm demo: PORT must be a whole number from 0 to 65535, got "80x"\n'],
    ['LOG_LEVEL=verbose', { LOG_LEVEL: 'verbose' }, 'strm demo: LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "verbose"\n'],
  ])('%s: one line, exit 1, nothing left behind', async (_name, env, message) => {
    const result = await runDemo(env);
    expect(result.status).toBe(1);
    expect(result.stderr).toBe(message);
    expect(result.stdout).toBe('');
    expect(leftBehind(result.tmp)).toEqual([]);
  });

  test('a port in use: one line that names the port, exit 1, nothing left behind', async () => {
    const taken = createServer();
    taken.listen(0, '127.0.0.1');
    await once(taken, 'listening');
    const { port } = taken.address() as { port: number };
    try {
      const result = await runDemo({ PORT: String(port) });
      expect(result.status).toBe(1);
      expect(result.stderr).toBe(`strm demo: port ${port} on 127.0.0.1 is already in use (another demo or proxy?); set PORT to a free port, or PORT=0 for any free port\n`);
      expect(leftBehind(result.tmp)).toEqual([]);
    } finally {
      taken.close();
    }
  });
});
