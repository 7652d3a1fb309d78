import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { verifyParams } from '@strm/signing';

const CLI = join(import.meta.dirname, '..', 'src', 'cli.ts');

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

  test.each([
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
