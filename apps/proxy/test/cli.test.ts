import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { verifyParams } from '@strm/signing';
import { CONFIG_VARIABLE_TABLE } from '../src/config';
import { authorizeStatus } from '../src/status-access';
import { CLI_NODE_ARGS, runCli } from './support/cli';

const RESOLVER_COMMAND = join(import.meta.dirname, 'fixtures', 'resolver-command.mjs');
const ROOT = join(import.meta.dirname, '..', '..', '..');
const LONG_SECRET = 'k'.repeat(32);

const work = mkdtempSync(join(tmpdir(), 'strm-cli-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const run = runCli;

const NO_STACK = /\n\s+at /;

// Each test starts one to three CLI processes (about a second each, more on a loaded machine).
describe('strm-proxy CLI', { timeout: 60_000 }, () => {
  test('serve with an invalid environment: every problem in one message, exit 1, no stack trace', async () => {
    const result = await run(['serve'], { PORT: 'x', STRM_PROXY_AUTH: 'basic', LOG_LEVEL: 'loud' });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('invalid configuration');
    expect(result.stderr).toContain('PORT must be a whole number');
    expect(result.stderr).toContain('STRM_PROXY_AUTH must be token, apikey or none');
    expect(result.stderr).toContain('LOG_LEVEL must be one of');
    expect(result.stderr).toContain('STRM_RESOLVER_URL');
    expect(result.stderr).not.toMatch(NO_STACK);
  });

  test('check-config | head -1: the closed pipe ends the output, not in a crash', async () => {
    const child = spawn(process.execPath, [...CLI_NODE_ARGS, 'check-config'], {
      env: { PATH: process.env.PATH ?? '', STRM_PROXY_SECRET: LONG_SECRET, STRM_RESOLVER_URL: 'http://resolver:9000' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // The reader goes away before the CLI has written a byte (it takes ~1 s to load).
    child.stdout.destroy();
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    const [code] = await once(child, 'exit');
    expect(stderr).not.toContain('EPIPE');
    expect(stderr).not.toMatch(NO_STACK);
    expect(code).toBe(0);
  });

  describe('check-config validates what serve validates, resolver file included', () => {
    const badJson = join(work, 'bad.json');
    writeFileSync(badJson, '{\n  "entries": [\n    { "slug": "x", }\n  ]\n}\n');
    const badEntry = join(work, 'bad-entry.json');
    writeFileSync(badEntry, JSON.stringify({ entries: [{ site: 'aniworld.to', slug: 'x', season: 1, episode: 1, language: 'D', url: 'ftp://x' }] }));
    const cases: Array<[string, string, RegExp]> = [
      ['a file that does not exist', join(work, 'missing.json'), /STRM_RESOLVER_FILE .*missing\.json does not exist/],
      ['a file that is not JSON, with line and column', badJson, /STRM_RESOLVER_FILE .*bad\.json is not valid JSON: expected a "quoted" property name at line 3, column 20, found "}"/],
      ['a bad entry, by index and field', badEntry, /STRM_RESOLVER_FILE .*bad-entry\.json: entries\[0\]\.url must be an absolute http\(s\) URL/],
    ];
    test.each(cases)('%s: check-config and serve both refuse it, with the same message', async (_name, file, message) => {
      const env = { STRM_PROXY_SECRET: LONG_SECRET, STRM_RESOLVER_FILE: file, PORT: '0', HOST: '127.0.0.1' };
      const checked = await run(['check-config'], env);
      const served = await run(['serve'], env);
      expect(checked.status).toBe(1);
      expect(checked.stdout).not.toContain('configuration ok');
      expect(checked.stderr).toMatch(message);
      expect(checked.stderr).not.toMatch(NO_STACK);
      expect(served.status).toBe(1);
      expect(served.stderr).toBe(checked.stderr);
    });
  });

  test('check-config prints the effective configuration without secrets, and warns about a short secret', async () => {
    const result = await run(['check-config'], { STRM_PROXY_SECRET: 'hunter2', STRM_RESOLVER_URL: 'http://resolver:9000' });
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('configuration ok');
    expect(result.stdout).toContain('"resolverUrl": "http://resolver:9000"');
    expect(result.stdout).not.toContain('hunter2');
    expect(result.stderr).toBe('strm-proxy: warning: STRM_PROXY_SECRET is 7 bytes long; use 32 or more (openssl rand -hex 32): a short secret can be guessed from one signed URL\n');
    const long = await run(['check-config'], { STRM_PROXY_SECRET: LONG_SECRET, STRM_RESOLVER_URL: 'http://resolver:9000' });
    expect(long.stderr).toBe('');
  });

  test('check-config shows the resolver command\'s argv, not the environment it inherits', async () => {
    const result = await run(['check-config'], { STRM_PROXY_SECRET: 'hunter2', STRM_RESOLVER_COMMAND: `${process.execPath} ${RESOLVER_COMMAND} --slug {slug}`, API_TOKEN: 'inherited-secret' });
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toContain('"resolverCommand": {');
    expect(result.stdout).toContain('"--slug",\n      "{slug}"');
    expect(result.stdout).toMatch(/"env": "\[\d+ variables inherited; the proxy's secrets withheld\]"/);
    expect(result.stdout).not.toMatch(/hunter2|inherited-secret/);
  });

  test('resolve prints host and path, header names, provider, expiry and time, never the query or a header value', async () => {
    const result = await run(['resolve', '--slug', 'frieren', '-s', '1', '-e', '3', '--lang', 'German Dub'], { STRM_RESOLVER_COMMAND: `${process.execPath} ${RESOLVER_COMMAND}` });
    expect(result.status, result.stderr).toBe(0);
    const lines = result.stdout.trim().split('\n');
    expect(lines[0]).toBe(`source   command ${process.execPath}`);
    expect(lines[1]).toBe('url      https://cdn.example/hls/frieren/s1e3/master.m3u8 (query hidden)');
    expect(lines[2]).toBe('headers  Referer, Cookie (values hidden)');
    expect(lines[3]).toBe('provider VOE');
    expect(lines[4]).toMatch(/^expires {2}\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \(in (1h 59m|2h 0m)\)$/);
    expect(lines[5]).toMatch(/^took {5}\d+ ms$/);
    expect(result.stdout).not.toMatch(/SECRET|voe\.sx/);
  });

  test('resolve without expiresAt says how long the answer is cached', async () => {
    const result = await run(['resolve', '--slug', 'x', '-s', '1', '-e', '1', '--lang', 'German Dub', '--provider', 'Vidmoly'], {
      STRM_RESOLVER_COMMAND: `${process.execPath} ${RESOLVER_COMMAND}`, EXPIRES_IN_S: 'none', STRM_PROXY_CACHE_TTL_SECONDS: '600',
    });
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toContain('provider Vidmoly');
    expect(result.stdout).toContain('expires  not given: cached for STRM_PROXY_CACHE_TTL_SECONDS=600');
  });

  test.each([
    ['unknown', 2, /resolve failed: STRM_RESOLVER_NOT_FOUND: .*does not know this episode \(exit 2\)/],
    ['broken', 1, /resolve failed: STRM_RESOLVER_UNAVAILABLE: .*exited 1.*its last error line: ERROR: extractor failed for https:\/\/voe\.example\/…$/m],
  ])('resolve for the slug %s exits %i with the reason', async (slug, status, message) => {
    const result = await run(['resolve', '--slug', slug, '-s', '1', '-e', '1', '--lang', 'German Dub'], { STRM_RESOLVER_COMMAND: `${process.execPath} ${RESOLVER_COMMAND}` });
    expect(result.status).toBe(status);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).not.toMatch(/SECRET|\n\s+at /);
  });

  test('resolve names what is missing or invalid', async () => {
    expect((await run(['resolve', '--slug', 'x'], { STRM_RESOLVER_COMMAND: `${process.execPath} ${RESOLVER_COMMAND}` })).stderr).toContain('resolve needs --season, --episode, --lang');
    const noSource = await run(['resolve', '--slug', 'x', '-s', '1', '-e', '1', '--lang', 'x'], {});
    expect(noSource.status).toBe(1);
    expect(noSource.stderr).toContain('set STRM_RESOLVER_URL');
    expect(noSource.stderr).not.toContain('STRM_PROXY_SECRET');
  });

  test('status-url prints a status link that the proxy admits until it expires', async () => {
    const before = Math.floor(Date.now() / 1000);
    const result = await run(['status-url', '--base-url', 'https://media.example/strm/', '--ttl', '120'], { STRM_PROXY_SECRET: 'k' });
    // The CLI reads the clock somewhere between these two instants (seconds apart on a loaded machine).
    const after = Math.ceil(Date.now() / 1000);
    expect(result.status).toBe(0);
    const url = new URL(result.stdout.trim());
    expect(url.origin + url.pathname).toBe('https://media.example/strm/status');
    expect([...url.searchParams.keys()].sort()).toEqual(['exp', 'scope', 'sig']);
    const exp = Number(url.searchParams.get('exp'));
    expect(exp - before).toBeGreaterThanOrEqual(120);
    expect(exp - after).toBeLessThanOrEqual(120);
    expect(() => authorizeStatus('token', ['k'], url.searchParams, undefined, exp)).not.toThrow();
    expect(() => authorizeStatus('token', ['k'], url.searchParams, undefined, exp + 1)).toThrow(/expired/);
    expect(() => authorizeStatus('token', ['other'], url.searchParams, undefined, exp)).toThrow(/does not match/);
    // Without --ttl the link lives an hour.
    const hour = new URL((await run(['status-url', '--base-url', 'http://nas:8080'], { STRM_PROXY_SECRET: 'k' })).stdout.trim());
    expect(Number(hour.searchParams.get('exp')) - before).toBeGreaterThanOrEqual(3600);
    expect(hour.pathname).toBe('/status');
  });
  test('sign prints a URL the proxy accepts and writes the .strm file', async () => {
    const out = join(work, 'Episode 1.strm');
    const result = await run(
      ['sign', '--base-url', 'http://nas:8080', '--slug', 'frieren', '--season', '1', '--episode', '3', '--lang', 'German Dub', '--out', out],
      { STRM_PROXY_SECRET: LONG_SECRET },
    );
    expect(result.status).toBe(0);
    const url = new URL(result.stdout.trim());
    expect(url.origin + url.pathname).toBe('http://nas:8080/strm/stream');
    expect(Object.fromEntries(url.searchParams)).toMatchObject({ site: 'aniworld.to', slug: 'frieren', s: '1', e: '3', lang: 'German Dub' });
    expect(verifyParams(url.searchParams, LONG_SECRET)).toEqual({ ok: true });
    expect(readFileSync(out, 'utf8')).toBe(`${url.href}\n`);
  });

  test('npm run strm-proxy -- sign --out: a relative path lands in the folder the command was typed in', async () => {
    const caller = mkdtempSync(join(work, 'caller-'));
    const child = spawn('npm', ['--prefix', ROOT, 'run', '--silent', 'strm-proxy', '--', 'sign', '--base-url', 'http://nas:8080', '--slug', 'x', '--season', '1', '--episode', '2', '--lang', 'D', '--out', 'here.strm'], {
      cwd: caller,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', STRM_PROXY_SECRET: LONG_SECRET },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const result = { status: null as number | null, stdout: '', stderr: '' };
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      result.stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      result.stderr += chunk;
    });
    [result.status] = (await once(child, 'close')) as [number | null];
    expect(result.status, result.stderr).toBe(0);
    expect(readFileSync(join(caller, 'here.strm'), 'utf8')).toBe(result.stdout);
  });

  test.each([
    [['sign', '--slug', 'x'], { STRM_PROXY_SECRET: LONG_SECRET }, /sign needs --base-url, --season, --episode, --lang/],
    [['sign', '--base-url', 'http://nas', '--slug', 'x', '--season', '1', '--episode', '1', '--lang', 'D'], {}, /STRM_PROXY_SECRET must be set/],
    [['sign', '--base-url', 'http://nas', '--slug', 'x', '--season', 'one', '--episode', '1', '--lang', 'D'], { STRM_PROXY_SECRET: LONG_SECRET }, /--season must be a whole number/],
    [['sign', '--base-url', 'nas:8080', '--slug', 'x', '--season', '1', '--episode', '1', '--lang', 'D'], { STRM_PROXY_SECRET: LONG_SECRET }, /sign: --base-url must be an http\(s\) URL .* got "nas:8080"/],
    [['sign', '--base-url', 'nas', '--slug', 'x', '--season', '1', '--episode', '1', '--lang', 'D'], { STRM_PROXY_SECRET: LONG_SECRET }, /--base-url must be an http\(s\) URL/],
    [['sign', '--bogus'], { STRM_PROXY_SECRET: LONG_SECRET }, /sign: Unknown option '--bogus' \(see strm-proxy sign --help\)/],
    [['sign', '--slug'], { STRM_PROXY_SECRET: LONG_SECRET }, /Option '--slug <value>' argument missing/],
    [['check-config', '--verbose'], {}, /check-config: Unknown option '--verbose'/],
    [['status-url'], { STRM_PROXY_SECRET: 'k' }, /status-url needs --base-url/],
    [['status-url', '--base-url', 'http://nas'], {}, /STRM_PROXY_SECRET must be set/],
    [['status-url', '--base-url', 'nas:8080'], { STRM_PROXY_SECRET: 'k' }, /--base-url must be an http\(s\) URL/],
    [['status-url', '--base-url', 'http://nas', '--ttl', '0'], { STRM_PROXY_SECRET: 'k' }, /--ttl must be a whole number of seconds from 1 to 2592000, got "0"/],
    [['status-url', '--base-url', 'http://nas', '--ttl', 'soon'], { STRM_PROXY_SECRET: 'k' }, /--ttl must be a whole number/],
    [['launch'], {}, /unknown command "launch"/],
  ])('%j fails with a message that names the problem', async (args, env, message) => {
    const result = await run(args, env);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).not.toMatch(NO_STACK);
    expect(result.stderr).not.toContain('Invalid URL');
  });

  test.each([
    ['serve', [], Object.keys(CONFIG_VARIABLE_TABLE)],
    ['check-config', [], Object.keys(CONFIG_VARIABLE_TABLE)],
    ['sign', ['--base-url', '--slug', '-s, --season', '-e, --episode', '--lang', '--site', '--provider', '--expires-in', '--out'], ['STRM_PROXY_SECRET']],
    ['library', ['--from', '--out', '--base-url', '--dry-run', '--force'], ['STRM_PROXY_SECRET']],
    ['status-url', ['--base-url', '--ttl'], ['STRM_PROXY_SECRET', 'STRM_PROXY_STATUS']],
    ['resolve', ['--slug', '-s, --season', '-e, --episode', '--lang', '--site', '--provider', '--refresh'], ['STRM_RESOLVER_URL', 'STRM_RESOLVER_FILE', 'STRM_RESOLVER_COMMAND']],
  ])('%s --help lists its options and the variables it reads', async (command, options, variables) => {
    const result = await run([command, '--help']);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain(`Usage: strm-proxy ${command}`);
    for (const option of [...options, '--help']) expect(result.stdout).toContain(`  ${option}`);
    for (const variable of variables) expect(result.stdout).toMatch(new RegExp(`^  ${variable} `, 'm'));
  });

  test('--help lists every variable with its default, from the config module', async () => {
    const help = (await run(['--help'])).stdout;
    for (const [name, variable] of Object.entries(CONFIG_VARIABLE_TABLE)) {
      const line = help.split('\n').find((text) => text.startsWith(`  ${name} `));
      expect(line, name).toBeDefined();
      if (variable.default !== '') expect(line).toContain(`(default ${variable.default})`);
    }
    for (const command of ['serve', 'check-config', 'sign', 'resolve', 'status-url', 'library']) expect(help).toMatch(new RegExp(`^  ${command} `, 'm'));
    expect((await run(['--version'])).stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });
});
