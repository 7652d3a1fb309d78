import { describe, expect, test } from 'vitest';
import { ConfigError, loadConfig } from '../src/config';

const base = { STRM_PROXY_SECRET: 's3cr3t', STRM_RESOLVER_URL: 'http://resolver:9000' };

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('loadConfig', () => {
  test('defaults of the configuration table (README, Configuration)', () => {
    expect(loadConfig(base)).toEqual({
      port: 8080,
      host: '0.0.0.0',
      auth: 'token',
      secret: 's3cr3t',
      previousSecrets: [],
      publicBaseUrl: undefined,
      tokenTtlSeconds: 86_400,
      cacheTtlSeconds: 0,
      upstreamAllowlist: [],
      resolverUrl: 'http://resolver:9000',
      resolverFile: undefined,
      resolverCommand: undefined,
      resolverTimeoutMs: undefined,
      resolverConcurrency: 4,
      resolverMinRefreshMs: 5000,
      upstreamTimeoutMs: 15_000,
      upstreamConnections: 1024,
      redisUrl: undefined,
      corsOrigins: '*',
      status: false,
      rewriteLimits: { maxUris: 100_000, maxVariableReferences: 100_000, maxOutputBytes: 64 * 1024 * 1024, maxOutputRatio: 64 },
      logLevel: 'info',
    });
  });

  test('every variable is read', () => {
    const config = loadConfig({
      PORT: '9090', HOST: '127.0.0.1', STRM_PROXY_AUTH: 'apikey', STRM_PROXY_SECRET: 'a',
      STRM_PROXY_PREVIOUS_SECRETS: 'b, c', STRM_PUBLIC_BASE_URL: 'https://media.example/strm/',
      STRM_PROXY_TOKEN_TTL_SECONDS: '3600', STRM_PROXY_CACHE_TTL_SECONDS: '60',
      STRM_PROXY_UPSTREAM_ALLOWLIST: 'cdn.lan,10.0.0.0/8', STRM_RESOLVER_FILE: '/data/episodes.json',
      STRM_PROXY_UPSTREAM_TIMEOUT_MS: '5000', STRM_PROXY_UPSTREAM_CONNECTIONS: '4096', STRM_PROXY_REDIS_URL: 'redis://redis:6379',
      STRM_PROXY_CORS_ORIGINS: 'https://jellyfin.example, http://localhost:8096', LOG_LEVEL: 'debug',
      STRM_PROXY_STATUS: 'ON',
      STRM_PROXY_PLAYLIST_MAX_URIS: '500000', STRM_PROXY_PLAYLIST_MAX_VARIABLE_REFERENCES: '20', STRM_PROXY_PLAYLIST_MAX_OUTPUT_MIB: '256',
      STRM_PROXY_PLAYLIST_MAX_OUTPUT_RATIO: '200',
    });
    expect(config).toMatchObject({
      port: 9090, host: '127.0.0.1', auth: 'apikey', previousSecrets: ['b', 'c'], publicBaseUrl: 'https://media.example/strm',
      tokenTtlSeconds: 3600, cacheTtlSeconds: 60, upstreamAllowlist: ['cdn.lan', '10.0.0.0/8'], resolverFile: '/data/episodes.json',
      upstreamTimeoutMs: 5000, upstreamConnections: 4096, redisUrl: 'redis://redis:6379', corsOrigins: ['https://jellyfin.example', 'http://localhost:8096'], logLevel: 'debug',
      status: true,
      rewriteLimits: { maxUris: 500_000, maxVariableReferences: 20, maxOutputBytes: 256 * 1024 * 1024, maxOutputRatio: 200 },
    });
  });

  test.each([
    ['STRM_PROXY_PLAYLIST_MAX_URIS', '0'],
    ['STRM_PROXY_PLAYLIST_MAX_VARIABLE_REFERENCES', 'many'],
    ['STRM_PROXY_PLAYLIST_MAX_OUTPUT_MIB', '5000'],
    ['STRM_PROXY_PLAYLIST_MAX_OUTPUT_RATIO', '1.5'],
    ['STRM_PROXY_UPSTREAM_CONNECTIONS', '0'],
  ])('%s=%s is refused at start, naming the variable', (name, value) => {
    expect(() => loadConfig({ ...base, [name]: value })).toThrow(new RegExp(`${name} must be a whole number`));
  });

  test('STRM_RESOLVER_COMMAND: argv split with quotes, the environment inherited without the proxy\'s secrets', () => {
    const config = loadConfig({
      STRM_PROXY_SECRET: 'hunter2', STRM_PROXY_PREVIOUS_SECRETS: 'old-secret', STRM_PROXY_REDIS_URL: 'redis://:pw@redis:6379',
      STRM_RESOLVER_COMMAND: 'node adapters/yt-dlp.mjs "https://videos.example/{slug}/{season}x{episode}" --lang "{language}"',
      STRM_RESOLVER_TIMEOUT_MS: '45000', STRM_RESOLVER_CONCURRENCY: '2', STRM_RESOLVER_MIN_REFRESH_MS: '0',
      PATH: process.env.PATH ?? '', HOME: '/home/strm', HTTPS_PROXY: 'http://vpn:8888',
    });
    expect(config.resolverCommand?.argv).toEqual(['node', 'adapters/yt-dlp.mjs', 'https://videos.example/{slug}/{season}x{episode}', '--lang', '{language}']);
    expect(config.resolverCommand?.env).toMatchObject({ HOME: '/home/strm', HTTPS_PROXY: 'http://vpn:8888', STRM_RESOLVER_TIMEOUT_MS: '45000' });
    expect(Object.keys(config.resolverCommand!.env)).not.toEqual(expect.arrayContaining(['STRM_PROXY_SECRET']));
    expect(JSON.stringify(config.resolverCommand)).not.toMatch(/hunter2|old-secret|pw@redis/);
    expect(config).toMatchObject({ resolverTimeoutMs: 45_000, resolverConcurrency: 2, resolverMinRefreshMs: 0, resolverUrl: undefined, resolverFile: undefined });
  });

  test('auth none needs no secret', () => {
    expect(loadConfig({ STRM_PROXY_AUTH: 'none', STRM_RESOLVER_FILE: 'x.json' }).secret).toBeUndefined();
  });

  test('STRM_PROXY_STATUS=on with auth none is accepted when a secret guards the page', () => {
    expect(loadConfig({ STRM_PROXY_AUTH: 'none', STRM_PROXY_SECRET: 'k', STRM_PROXY_STATUS: 'on', STRM_RESOLVER_FILE: 'x.json' }).status).toBe(true);
  });

  test.each([
    [{ STRM_RESOLVER_URL: 'http://r' }, /STRM_PROXY_SECRET is required/],
    [{ ...base, STRM_PROXY_STATUS: 'yes' }, /STRM_PROXY_STATUS must be on or off, got "yes"/],
    [{ STRM_PROXY_AUTH: 'none', STRM_PROXY_STATUS: 'on', STRM_RESOLVER_FILE: 'x.json' }, /STRM_PROXY_STATUS=on needs STRM_PROXY_SECRET/],
    [{ ...base, PORT: 'eighty' }, /PORT must be a whole number/],
    [{ ...base, PORT: '70000' }, /PORT must be a whole number from 0 to 65535/],
    [{ ...base, STRM_PROXY_AUTH: 'basic' }, /STRM_PROXY_AUTH must be token, apikey or none/],
    [{ ...base, STRM_PUBLIC_BASE_URL: 'media.example' }, /STRM_PUBLIC_BASE_URL must be an absolute http\(s\) URL/],
    [{ ...base, STRM_PUBLIC_BASE_URL: 'ftp://media.example' }, /STRM_PUBLIC_BASE_URL must be an http\(s\) URL/],
    [{ ...base, STRM_PUBLIC_BASE_URL: 'https://media.example/strm?x=1' }, /STRM_PUBLIC_BASE_URL must be a scheme, a host and an optional path prefix/],
    [{ ...base, STRM_PUBLIC_BASE_URL: 'https://media.example/strm#top' }, /without query, fragment or user info/],
    [{ ...base, STRM_PUBLIC_BASE_URL: 'https://user:pw@media.example' }, /without query, fragment or user info/],
    [{ ...base, STRM_PROXY_TOKEN_TTL_SECONDS: '10' }, /STRM_PROXY_TOKEN_TTL_SECONDS must be a whole number from 60/],
    [{ ...base, STRM_PROXY_UPSTREAM_ALLOWLIST: '10.0.0.0/99' }, /not a valid CIDR/],
    [{ ...base, STRM_PROXY_UPSTREAM_ALLOWLIST: 'bad host!' }, /neither a host name/],
    [{ STRM_PROXY_SECRET: 'x' }, /set STRM_RESOLVER_URL .*, STRM_RESOLVER_FILE .* or STRM_RESOLVER_COMMAND/],
    [{ ...base, STRM_RESOLVER_FILE: 'x.json' }, /set only one of STRM_RESOLVER_URL, STRM_RESOLVER_FILE and STRM_RESOLVER_COMMAND; found STRM_RESOLVER_URL and STRM_RESOLVER_FILE/],
    [{ ...base, STRM_RESOLVER_COMMAND: process.execPath }, /set only one .*; found STRM_RESOLVER_URL and STRM_RESOLVER_COMMAND/],
    [{ STRM_PROXY_SECRET: 'x', STRM_RESOLVER_COMMAND: `${process.execPath} --lang "{language}` }, /STRM_RESOLVER_COMMAND: command line has a double quote at character \d+ that is never closed/],
    [{ STRM_PROXY_SECRET: 'x', STRM_RESOLVER_COMMAND: `${process.execPath} --lang {lang}` }, /STRM_RESOLVER_COMMAND: command line has an unknown placeholder \{lang\}/],
    [{ STRM_PROXY_SECRET: 'x', STRM_RESOLVER_COMMAND: '/nonexistent/resolve --slug {slug}' }, /STRM_RESOLVER_COMMAND: the program "\/nonexistent\/resolve" does not exist/],
    [{ STRM_PROXY_SECRET: 'x', STRM_RESOLVER_COMMAND: 'no-such-resolver-program {slug}', PATH: '/usr/bin:/bin' }, /STRM_RESOLVER_COMMAND: the program "no-such-resolver-program" is not on PATH/],
    [{ ...base, STRM_RESOLVER_TIMEOUT_MS: '50' }, /STRM_RESOLVER_TIMEOUT_MS must be a whole number from 100 to 600000/],
    [{ ...base, STRM_RESOLVER_CONCURRENCY: '0' }, /STRM_RESOLVER_CONCURRENCY must be a whole number from 1 to 64/],
    [{ ...base, STRM_RESOLVER_MIN_REFRESH_MS: '-1' }, /STRM_RESOLVER_MIN_REFRESH_MS must be a whole number from 0 to 3600000/],
    [{ ...base, STRM_PROXY_REDIS_URL: 'localhost:6379' }, /STRM_PROXY_REDIS_URL must start with redis:\/\//],
    [{ ...base, STRM_PROXY_CORS_ORIGINS: 'https://a.example/path' }, /is not an origin/],
    [{ ...base, LOG_LEVEL: 'loud' }, /LOG_LEVEL must be one of/],
  ])('%j is refused with %s', (env, message) => {
    const found = problems(env as Record<string, string>);
    expect(found.some((problem) => message.test(problem)), found.join('\n')).toBe(true);
  });

  test('every problem is reported at once, and no secret is echoed', () => {
    let error: ConfigError | undefined;
    try {
      loadConfig({ PORT: 'x', STRM_PROXY_AUTH: 'nope', STRM_PROXY_PREVIOUS_SECRETS: 'hunter2', LOG_LEVEL: 'loud' });
    } catch (caught) {
      error = caught as ConfigError;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect(error!.problems.length).toBeGreaterThanOrEqual(4);
    expect(error!.message).not.toContain('hunter2');
  });
});
