import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createCommandResolverSource,
  createResolverClient,
  parseCommandLine,
  redactLogLine,
  ResolverError,
  type CommandResolverSourceOptions,
  type EpisodeIdentity,
} from '../src/index';

const frieren: EpisodeIdentity = { site: 'aniworld.to', slug: 'frieren', season: 1, episode: 3, language: 'German Dub' };
const commands = join(import.meta.dirname, 'fixtures', 'commands');
const node = process.execPath;
let work: string;
let records = 0;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'strm-command-source-'));
});
afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

function recordFile(): string {
  records += 1;
  return join(work, `record-${records}.json`);
}

function source(script: string, env: Record<string, string> = {}, options: Partial<CommandResolverSourceOptions> = {}) {
  return createCommandResolverSource({ command: [node, join(commands, script)], env, timeoutMs: 20_000, ...options });
}

async function rejection(promise: Promise<unknown>): Promise<ResolverError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(ResolverError);
  return error as ResolverError;
}

/** True while `pid` is a live process (a zombie, dead but not yet reaped, counts as gone). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** Waits until `pid` is gone: SIGKILL is delivered at once, but the kernel ends the process a little later. */
async function gone(pid: number, withinMs = 5000): Promise<boolean> {
  const deadline = Date.now() + withinMs;
  while (alive(pid)) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return true;
}

describe('createCommandResolverSource: what the program receives', () => {
  it('argv with placeholders expanded inside entries, the identity in STRM_* variables, env passed on', async () => {
    const file = recordFile();
    const resolver = createCommandResolverSource({
      command: [node, ...parseCommandLine(`${join(commands, 'record.mjs')} --slug {slug} x-{season}-{episode} --lang={language} "{provider}" {site}`)],
      env: { RECORD_FILE: file, INHERITED: 'yes' },
    });
    const resolution = await resolver.resolve({ ...frieren, provider: 'VOE' }, { refresh: false });
    expect(resolution).toEqual({ url: 'http://127.0.0.1:9/recorded.m3u8', headers: { Referer: 'http://127.0.0.1:9/' }, provider: 'VOE' });
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({
      argv: ['--slug', 'frieren', 'x-1-3', '--lang=German Dub', 'VOE', 'aniworld.to'],
      env: { STRM_SITE: 'aniworld.to', STRM_SLUG: 'frieren', STRM_SEASON: '1', STRM_EPISODE: '3', STRM_LANGUAGE: 'German Dub', STRM_PROVIDER: 'VOE', STRM_REFRESH: '0' },
      inherited: 'yes',
    });
  });

  it.each([
    '$(touch MARKER)',
    '`touch MARKER`',
    '; touch MARKER; rm -rf MARKER-dir',
    '&& touch MARKER',
    '| touch MARKER',
    '"quoted" \'single\' \\back {season} * ?',
    'a b\tc',
  ])('the slug %j reaches the program as one argv entry and one variable, as text', async (template) => {
    const marker = join(work, `marker-${records}`);
    const slug = template.replaceAll('MARKER', marker);
    const file = recordFile();
    await source('record.mjs', { RECORD_FILE: file }).resolve({ ...frieren, slug }, { refresh: false });
    await createCommandResolverSource({ command: [node, join(commands, 'record.mjs'), '--slug', '{slug}', 'pre{slug}post'], env: { RECORD_FILE: file } })
      .resolve({ ...frieren, slug }, { refresh: true });
    const recorded = JSON.parse(readFileSync(file, 'utf8')) as { argv: string[]; env: Record<string, string> };
    expect(recorded.argv).toEqual(['--slug', slug, `pre${slug}post`]);
    expect(recorded.env['STRM_SLUG']).toBe(slug);
    expect(recorded.env['STRM_REFRESH']).toBe('1');
    expect(existsSync(marker)).toBe(false);
  });

  it('a refresh through the client runs the program again with STRM_REFRESH=1', async () => {
    const file = recordFile();
    const client = createResolverClient({ source: source('record.mjs', { RECORD_FILE: file }), minRefreshIntervalMs: 0 });
    await client.resolve(frieren);
    expect(JSON.parse(readFileSync(file, 'utf8')).env.STRM_REFRESH).toBe('0');
    rmSync(file);
    await client.resolve(frieren); // cached: no run
    expect(existsSync(file)).toBe(false);
    const { refreshed } = await client.resolve(frieren, { refresh: true, staleUrl: 'http://127.0.0.1:9/recorded.m3u8' });
    expect(refreshed).toBe(true);
    expect(JSON.parse(readFileSync(file, 'utf8')).env.STRM_REFRESH).toBe('1');
  });
});

describe('createCommandResolverSource: reading the answer', () => {
  it.each<[string, string, object]>([
    ['a URL line', 'http://127.0.0.1:9/a.mp4\n', { url: 'http://127.0.0.1:9/a.mp4', headers: {} }],
    ['a URL after progress lines', 'extracting…\nfound 3 providers\n\nhttps://cdn.example/b.m3u8?t=1\n\n', { url: 'https://cdn.example/b.m3u8?t=1', headers: {} }],
    ['a URL without newline, CRLF before', 'progress\r\nhttps://cdn.example/c.mp4', { url: 'https://cdn.example/c.mp4', headers: {} }],
    ['one JSON line', '{"url":"https://cdn.example/d.m3u8","headers":{"Referer":"https://voe.sx/"},"provider":"VOE","expiresAt":"2030-01-01T00:00:00Z"}\n',
      { url: 'https://cdn.example/d.m3u8', headers: { Referer: 'https://voe.sx/' }, provider: 'VOE', expiresAt: Date.parse('2030-01-01T00:00:00Z') }],
    ['pretty-printed JSON', '{\n  "url": "https://cdn.example/e.mp4",\n  "headers": null\n}\n', { url: 'https://cdn.example/e.mp4', headers: {} }],
    ['JSON after progress lines', 'step 1\nstep 2\n{"url":"https://cdn.example/f.mp4"}\n', { url: 'https://cdn.example/f.mp4', headers: {} }],
  ])('%s', async (_name, output, expected) => {
    expect(await source('print.mjs', { OUTPUT: output }).resolve(frieren, { refresh: false })).toEqual(expected);
  });

  it.each<[string, string, RegExp]>([
    ['nothing', '', /exited 0 but printed nothing/],
    ['only blank lines', '\n \n', /exited 0 but printed nothing/],
    ['a line that is not a URL', 'no link found\n', /the last line of its output must be an absolute http\(s\) URL; received a string of 13 characters that is not an absolute URL/],
    ['a URL of another scheme', 'ftp://cdn.example/x.mp4\n', /received a URL with scheme "ftp:"/],
    ['broken JSON', '{"url": "https://cdn.example/x?token=SECRET"\n', /printed output starting with "\{" that is not valid JSON/],
    ['JSON without url', '{"headers":{}}', /"url" must be an absolute http\(s\) URL; received undefined/],
    ['JSON with a bad expiresAt', '{"url":"https://cdn.example/x","expiresAt":"tomorrow"}', /"expiresAt" must be absent, null or an ISO 8601 date-time/],
    ['a header with a newline', '{"url":"https://cdn.example/x","headers":{"Referer":"a\\nb"}}', /without CR, LF/],
  ])('%s is STRM_RESOLVER_BAD_RESPONSE', async (_name, output, message) => {
    const error = await rejection(source('print.mjs', { OUTPUT: output }).resolve(frieren, { refresh: false }));
    expect(error.code).toBe('STRM_RESOLVER_BAD_RESPONSE');
    expect(error.message).toMatch(message);
    expect(error.message).not.toContain('SECRET');
  });

  it('exit 2 is STRM_RESOLVER_NOT_FOUND, with the last error line', async () => {
    const error = await rejection(source('fail.mjs', { EXIT_CODE: '2', STDERR_TEXT: 'searching\nno such episode: frieren S1E3\n' }).resolve(frieren, { refresh: false }));
    expect(error.code).toBe('STRM_RESOLVER_NOT_FOUND');
    expect(error.message).toMatch(/does not know this episode \(exit 2\); its last error line: no such episode: frieren S1E3$/);
  });

  it('another exit is STRM_RESOLVER_UNAVAILABLE, with the last error line redacted', async () => {
    const stderr = 'ERROR: HTTP Error 403: Forbidden for https://cdn.example/hls/master.m3u8?token=SECRET1 cookie=SECRET2 apikey: SECRET3 abcdefghijklmnopqrstuvwxyz0123456789SECRET4\n\n';
    const error = await rejection(source('fail.mjs', { EXIT_CODE: '1', STDERR_TEXT: stderr }).resolve(frieren, { refresh: false }));
    expect(error.code).toBe('STRM_RESOLVER_UNAVAILABLE');
    expect(error.message).toContain('exited 1; expected 0, or 2 for an unknown episode; its last error line: ERROR: HTTP Error 403: Forbidden for https://cdn.example/… cookie=[redacted] apikey: [redacted] [redacted]');
    expect(error.message).not.toMatch(/SECRET/);
  });

  it('a program that cannot start is STRM_RESOLVER_UNAVAILABLE', async () => {
    const error = await rejection(createCommandResolverSource({ command: [join(work, 'no-such-program')] }).resolve(frieren, { refresh: false }));
    expect(error.code).toBe('STRM_RESOLVER_UNAVAILABLE');
    expect(error.message).toMatch(/could not start the program \(ENOENT\)/);
  });
});

describe('createCommandResolverSource: bounds', () => {
  it('a program that hangs is killed at the timeout with the child it started', async () => {
    const file = recordFile();
    const started = performance.now();
    const error = await rejection(source('hang.mjs', { RECORD_FILE: file }, { timeoutMs: 1500 }).resolve(frieren, { refresh: false }));
    const elapsed = performance.now() - started;
    expect(error.code).toBe('STRM_RESOLVER_TIMEOUT');
    expect(error.message).toMatch(/did not finish within 1500 ms and was killed with its process group; its last error line: resolving… \(this one never answers\)/);
    expect(elapsed).toBeGreaterThanOrEqual(1400);
    expect(elapsed).toBeLessThan(15_000);
    const { pid, childPid } = JSON.parse(readFileSync(file, 'utf8')) as { pid: number; childPid: number };
    expect(await gone(pid), `program ${pid} still runs`).toBe(true);
    expect(await gone(childPid), `its child ${childPid} still runs`).toBe(true);
  });

  it('10 MB of output is refused and the program killed', async () => {
    const error = await rejection(source('flood.mjs', {}, { maxOutputBytes: 1024 * 1024 }).resolve(frieren, { refresh: false }));
    expect(error.code).toBe('STRM_RESOLVER_BAD_RESPONSE');
    expect(error.message).toMatch(/printed more than 1048576 bytes and was killed/);
  });

  it('a child left behind neither delays the answer nor survives it', async () => {
    const file = recordFile();
    const started = performance.now();
    const resolution = await source('leave-child.mjs', { RECORD_FILE: file }, { timeoutMs: 20_000 }).resolve(frieren, { refresh: false });
    expect(resolution.url).toBe('http://127.0.0.1:9/left-behind.mp4');
    expect(performance.now() - started).toBeLessThan(10_000);
    const { childPid } = JSON.parse(readFileSync(file, 'utf8')) as { childPid: number };
    expect(await gone(childPid), `child ${childPid} still runs`).toBe(true);
  });

  it('runs at most `concurrency` processes; the others wait their turn', async () => {
    const held: ServerResponse[] = [];
    let inside = 0;
    let most = 0;
    const entered: string[] = [];
    let onEnter = () => {};
    const gate = createServer((req, res) => {
      inside += 1;
      most = Math.max(most, inside);
      entered.push(new URL(req.url!, 'http://x').searchParams.get('slug')!);
      res.once('finish', () => (inside -= 1));
      held.push(res);
      onEnter();
    });
    gate.listen(0, '127.0.0.1');
    await once(gate, 'listening');
    const gateUrl = `http://127.0.0.1:${(gate.address() as AddressInfo).port}/gate`;
    const resolver = source('gate.mjs', { GATE_URL: gateUrl }, { concurrency: 2 });
    const slugs = ['a', 'b', 'c', 'd', 'e'];
    const results = slugs.map((slug) => resolver.resolve({ ...frieren, slug }, { refresh: false }));
    const enteredCount = (count: number) => new Promise<void>((resolve) => {
      onEnter = () => entered.length >= count && resolve();
      onEnter();
    });
    await enteredCount(2);
    expect(resolver.running).toBe(2);
    expect(resolver.queued).toBe(3);
    // Let them through one at a time; each release lets exactly one waiting program start.
    for (let count = 3; count <= slugs.length; count += 1) {
      held.shift()!.end('go');
      await enteredCount(count);
    }
    for (const res of held.splice(0)) res.end('go');
    const resolutions = await Promise.all(results);
    expect(resolutions.map((r) => r.url)).toEqual(slugs.map((slug) => `http://127.0.0.1:9/${slug}.mp4`));
    // The first two start together (either may connect first); the waiting ones in call order.
    expect([...entered.slice(0, 2)].sort()).toEqual(['a', 'b']);
    expect(entered.slice(2)).toEqual(['c', 'd', 'e']);
    expect(most).toBe(2);
    expect(resolver.running).toBe(0);
    gate.close();
  });

  it('a full queue answers at once; a long wait times out', async () => {
    const gateHits: ServerResponse[] = [];
    const gate = createServer((_req, res) => gateHits.push(res));
    gate.listen(0, '127.0.0.1');
    await once(gate, 'listening');
    const gateUrl = `http://127.0.0.1:${(gate.address() as AddressInfo).port}/gate`;
    const resolver = source('gate.mjs', { GATE_URL: gateUrl }, { concurrency: 1, maxQueued: 1, timeoutMs: 3000 });
    const first = resolver.resolve({ ...frieren, slug: 'first' }, { refresh: false }).catch((e: unknown) => e);
    const second = resolver.resolve({ ...frieren, slug: 'second' }, { refresh: false }).catch((e: unknown) => e);
    const third = await rejection(resolver.resolve({ ...frieren, slug: 'third' }, { refresh: false }));
    expect(third.code).toBe('STRM_RESOLVER_UNAVAILABLE');
    expect(third.message).toMatch(/1 processes are running and 1 resolutions wait already/);
    const waited = (await second) as ResolverError;
    expect(waited.code).toBe('STRM_RESOLVER_TIMEOUT');
    expect(waited.message).toMatch(/waited 3000 ms for one of 1 resolver processes/);
    expect(((await first) as ResolverError).code).toBe('STRM_RESOLVER_TIMEOUT');
    for (const res of gateHits) res.end();
    gate.close();
  });

  it.each<[Partial<CommandResolverSourceOptions>, RegExp]>([
    [{ command: [] }, /options.command must be a non-empty array/],
    [{ command: [''] }, /options.command must be a non-empty array/],
    [{ command: ['/bin/x'], timeoutMs: 0 }, /options.timeoutMs must be a positive integer/],
    [{ command: ['/bin/x'], concurrency: 1.5 }, /options.concurrency must be a positive integer/],
    [{ command: ['/bin/x'], maxOutputBytes: -1 }, /options.maxOutputBytes must be a positive integer/],
  ])('createCommandResolverSource(%j) throws a TypeError', (options, message) => {
    expect(() => createCommandResolverSource(options as CommandResolverSourceOptions)).toThrow(message);
  });
});

describe('redactLogLine', () => {
  it.each<[string, string]>([
    ['ERROR: Unsupported URL: https://aniworld.to/anime/stream/x?sig=abc', 'ERROR: Unsupported URL: https://aniworld.to/…'],
    ['fetch http://user:pw@cdn.example:8080/a/b failed', 'fetch http://cdn.example:8080/… failed'],
    ['token=abc&x=1 Authorization: Bearer xyz', 'token=[redacted]&x=1 Authorization: [redacted] xyz'],
    ['Cookie: "sid=1; a=2" ok', 'Cookie: [redacted] ok'],
    ['id eyJhbGciOiJIUzI1NiJ9eyJzdWIiOiIxMjM0NTY3ODkwIn0 end', 'id [redacted] end'],
    ['bell\u0007 and \u001b[31mred', 'bell and [31mred'],
    ['x'.repeat(300), `${'[redacted]'}`],
    ['word '.repeat(60).trim(), `${'word '.repeat(40).slice(0, 200)}…`],
  ])('redactLogLine(%j)', (line, expected) => {
    expect(redactLogLine(line)).toBe(expected);
  });
});
