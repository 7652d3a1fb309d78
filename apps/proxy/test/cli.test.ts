import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { verifyParams } from '@strm/signing';
import { authorizeStatus } from '../src/status-access';

const CLI = join(import.meta.dirname, '..', 'src', 'cli.ts');
const RESOLVER_COMMAND = join(import.meta.dirname, 'fixtures', 'resolver-command.mjs');

function cli(args: string[], env: Record<string, string> = {}) {
  const result = spawnSync(process.execPath, ['--conditions=@strm/source', '--import', 'tsx', CLI, ...args], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', ...env },
    timeout: 20_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('strm-proxy CLI', () => {
  test('serve with an invalid environment: every problem in one message, exit 1, no stack trace', () => {
    const result = cli(['serve'], { PORT: 'x', STRM_PROXY_AUTH: 'basic', LOG_LEVEL: 'loud' });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('invalid configuration');
    expect(result.stderr).toContain('PORT must be a whole number');
    expect(result.stderr).toContain('STRM_PROXY_AUTH must be token, apikey or none');
    expect(result.stderr).toContain('LOG_LEVEL must be one of');
    expect(result.stderr).toContain('STRM_RESOLVER_URL');
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  test('serve with a resolver file that does not exist fails clearly', () => {
    const result = cli(['serve'], { STRM_PROXY_SECRET: 'x', STRM_RESOLVER_FILE: '/nonexistent/episodes.json', PORT: '0', HOST: '127.0.0.1' });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/could not start: .*episodes\.json/);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  test('check-config prints the effective configuration without secrets', () => {
    const result = cli(['check-config'], { STRM_PROXY_SECRET: 'hunter2', STRM_RESOLVER_URL: 'http://resolver:9000' });
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('configuration ok');
    expect(result.stdout).toContain('"resolverUrl": "http://resolver:9000"');
    expect(result.stdout).not.toContain('hunter2');
  });

  test('check-config shows the resolver command\'s argv, not the environment it inherits', () => {
    const result = cli(['check-config'], { STRM_PROXY_SECRET: 'hunter2', STRM_RESOLVER_COMMAND: `${process.execPath} ${RESOLVER_COMMAND} --slug {slug}`, API_TOKEN: 'inherited-secret' });
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toContain('"resolverCommand": {');
    expect(result.stdout).toContain('"--slug",\n      "{slug}"');
    expect(result.stdout).toMatch(/"env": "\[\d+ variables inherited; the proxy's secrets withheld\]"/);
    expect(result.stdout).not.toMatch(/hunter2|inherited-secret/);
  });

  test('resolve prints host and path, header names, provider, expiry and time, never the query or a header value', () => {
    const result = cli(['resolve', '--slug', 'frieren', '-s', '1', '-e', '3', '--lang', 'German Dub'], { STRM_RESOLVER_COMMAND: `${process.execPath} ${RESOLVER_COMMAND}` });
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

  test('resolve without expiresAt says how long the answer is cached', () => {
    const result = cli(['resolve', '--slug', 'x', '-s', '1', '-e', '1', '--lang', 'German Dub', '--provider', 'Vidmoly'], {
      STRM_RESOLVER_COMMAND: `${process.execPath} ${RESOLVER_COMMAND}`, EXPIRES_IN_S: 'none', STRM_PROXY_CACHE_TTL_SECONDS: '600',
    });
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toContain('provider Vidmoly');
    expect(result.stdout).toContain('expires  not given: cached for STRM_PROXY_CACHE_TTL_SECONDS=600');
  });

  test.each([
    ['unknown', 2, /resolve failed: STRM_RESOLVER_NOT_FOUND: .*does not know this episode \(exit 2\)/],
    ['broken', 1, /resolve failed: STRM_RESOLVER_UNAVAILABLE: .*exited 1.*its last error line: ERROR: extractor failed for https:\/\/voe\.example\/…$/m],
  ])('resolve for the slug %s exits %i with the reason', (slug, status, message) => {
    const result = cli(['resolve', '--slug', slug, '-s', '1', '-e', '1', '--lang', 'German Dub'], { STRM_RESOLVER_COMMAND: `${process.execPath} ${RESOLVER_COMMAND}` });
    expect(result.status).toBe(status);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).not.toMatch(/SECRET|\n\s+at /);
  });

  test('resolve names what is missing or invalid', () => {
    expect(cli(['resolve', '--slug', 'x'], { STRM_RESOLVER_COMMAND: `${process.execPath} ${RESOLVER_COMMAND}` }).stderr).toContain('resolve needs --season, --episode, --lang');
    const noSource = cli(['resolve', '--slug', 'x', '-s', '1', '-e', '1', '--lang', 'x'], {});
    expect(noSource.status).toBe(1);
    expect(noSource.stderr).toContain('set STRM_RESOLVER_URL');
    expect(noSource.stderr).not.toContain('STRM_PROXY_SECRET');
  });

  test('sign prints a URL the proxy accepts and writes the .strm file', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'strm-cli-')), 'Episode 1.strm');
    const result = cli(
      ['sign', '--base-url', 'http://nas:8080', '--slug', 'frieren', '--season', '1', '--episode', '3', '--lang', 'German Dub', '--out', out],
      { STRM_PROXY_SECRET: 'k' },
    );
    expect(result.status).toBe(0);
    const url = new URL(result.stdout.trim());
    expect(url.origin + url.pathname).toBe('http://nas:8080/strm/stream');
    expect(Object.fromEntries(url.searchParams)).toMatchObject({ site: 'aniworld.to', slug: 'frieren', s: '1', e: '3', lang: 'German Dub' });
    expect(verifyParams(url.searchParams, 'k')).toEqual({ ok: true });
    expect(readFileSync(out, 'utf8')).toBe(`${url.href}\n`);
  });

  test('status-url prints a status link that the proxy admits until it expires', () => {
    const before = Math.floor(Date.now() / 1000);
    const result = cli(['status-url', '--base-url', 'https://media.example/strm/', '--ttl', '120'], { STRM_PROXY_SECRET: 'k' });
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
    const hour = new URL(cli(['status-url', '--base-url', 'http://nas:8080'], { STRM_PROXY_SECRET: 'k' }).stdout.trim());
    expect(Number(hour.searchParams.get('exp')) - before).toBeGreaterThanOrEqual(3600);
    expect(hour.pathname).toBe('/status');
  });

  test.each([
    [['status-url'], { STRM_PROXY_SECRET: 'k' }, /status-url needs --base-url/],
    [['status-url', '--base-url', 'http://nas'], {}, /STRM_PROXY_SECRET must be set/],
    [['status-url', '--base-url', 'nas:8080'], { STRM_PROXY_SECRET: 'k' }, /--base-url must be an http\(s\) URL/],
    [['status-url', '--base-url', 'http://nas', '--ttl', '0'], { STRM_PROXY_SECRET: 'k' }, /--ttl must be a whole number of seconds from 1 to 2592000, got "0"/],
    [['status-url', '--base-url', 'http://nas', '--ttl', 'soon'], { STRM_PROXY_SECRET: 'k' }, /--ttl must be a whole number/],
    [['sign', '--slug', 'x'], { STRM_PROXY_SECRET: 'k' }, /sign needs --base-url/],
    [['sign', '--base-url', 'http://nas', '--slug', 'x', '--season', '1', '--episode', '1', '--lang', 'D'], {}, /STRM_PROXY_SECRET must be set/],
    [['sign', '--base-url', 'http://nas', '--slug', 'x', '--season', 'one', '--episode', '1', '--lang', 'D'], { STRM_PROXY_SECRET: 'k' }, /--season must be a whole number/],
    [['sign', '--bogus'], { STRM_PROXY_SECRET: 'k' }, /Unknown option '--bogus'/],
    [['launch'], {}, /unknown command "launch"/],
  ])('%j fails with a clear message', (args, env, message) => {
    const result = cli(args, env);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  test('--help and --version', () => {
    expect(cli(['--help']).stdout).toContain('strm-proxy serve');
    expect(cli(['--version']).stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });
});
