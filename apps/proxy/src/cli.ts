#!/usr/bin/env node
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import { ResolverError, type Resolution } from '@strm/resolver-client';
import { signedEntryUrl } from '@strm/signing';
import { ConfigError, loadConfig, type ProxyConfig } from './config';
import { createConfiguredSource } from './resolver-source';
import { startProxy } from './server';
import { MAX_STATUS_LINK_TTL_SECONDS, statusLink } from './status-access';

const HELP = `strm-proxy: a streaming proxy for .strm files (Jellyfin, Emby, Plex, Kodi)

Usage:
  strm-proxy serve            run the proxy, configured by the environment (see the README)
  strm-proxy check-config     validate the environment and print the effective configuration
  strm-proxy sign [options]   print a signed entry URL for an episode (needs STRM_PROXY_SECRET)
      --base-url URL          the proxy as the media server reaches it, e.g. http://nas:8080
      --slug SLUG --season N --episode N --lang LANGUAGE
      [--site aniworld.to] [--provider NAME] [--expires-in SECONDS] [--out FILE.strm]
  strm-proxy resolve [options] ask the configured resolver for an episode once and show what it
                              answers (URL host and path, header names, expiry, time taken)
      --slug SLUG -s N -e N --lang LANGUAGE [--site aniworld.to] [--provider NAME] [--refresh]
  strm-proxy status-url [options]
                              print a signed, expiring link to the status page (needs
                              STRM_PROXY_SECRET; the proxy needs STRM_PROXY_STATUS=on)
      --base-url URL          the proxy as your browser reaches it, e.g. http://nas:8080
      [--ttl SECONDS]         how long the link works (default 3600, at most 2592000)
  strm-proxy --help | --version
`;

function fail(message: string): never {
  process.stderr.write(`strm-proxy: ${message}\n`);
  process.exit(1);
}

function readConfig(): ProxyConfig {
  try {
    return loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) fail(error.message);
    throw error;
  }
}

async function serve(): Promise<void> {
  const proxy = await startProxy(readConfig()).catch((error: Error) => fail(`could not start: ${error.message}`));
  const stop = (signal: string) => {
    process.stderr.write(`strm-proxy: ${signal}, finishing running streams (up to 10 s)\n`);
    void proxy.close(10_000).then(() => process.exit(0));
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

function checkConfig(): void {
  const config = readConfig();
  const shown = {
    ...config,
    secret: config.secret ? '[set]' : '[not set]',
    previousSecrets: `[${config.previousSecrets.length} set]`,
    ...(config.resolverCommand ? { resolverCommand: { argv: config.resolverCommand.argv, env: `[${Object.keys(config.resolverCommand.env).length} variables inherited; the proxy's secrets withheld]` } } : {}),
  };
  process.stdout.write(`configuration ok\n${JSON.stringify(shown, null, 2)}\n`);
}

function sign(args: string[]): void {
  const { values } = parseArgs({
    args,
    options: {
      'base-url': { type: 'string' },
      site: { type: 'string', default: 'aniworld.to' },
      slug: { type: 'string' },
      season: { type: 'string', short: 's' },
      episode: { type: 'string', short: 'e' },
      lang: { type: 'string' },
      provider: { type: 'string' },
      'expires-in': { type: 'string' },
      out: { type: 'string' },
    },
    strict: true,
  });
  const secret = process.env.STRM_PROXY_SECRET;
  if (!secret) fail('STRM_PROXY_SECRET must be set to sign URLs (the same secret the proxy uses)');
  const missing = ['base-url', 'slug', 'season', 'episode', 'lang'].filter((name) => values[name as keyof typeof values] === undefined);
  if (missing.length > 0) fail(`sign needs --${missing.join(', --')}`);
  for (const name of ['season', 'episode'] as const) {
    if (!/^\d{1,6}$/.test(values[name]!)) fail(`--${name} must be a whole number, got ${JSON.stringify(values[name])}`);
  }
  let expiresAt: number | undefined;
  if (values['expires-in'] !== undefined) {
    if (!/^\d+$/.test(values['expires-in'])) fail('--expires-in must be a number of seconds');
    expiresAt = Math.floor(Date.now() / 1000) + Number(values['expires-in']);
  }
  let base: URL;
  try {
    base = new URL(values['base-url']!);
  } catch {
    fail(`--base-url must be an absolute URL, got ${JSON.stringify(values['base-url'])}`);
  }
  const streamUrl = new URL('strm/stream', base.href.endsWith('/') ? base.href : `${base.href}/`);
  const url = signedEntryUrl(
    streamUrl.href,
    { site: values.site, slug: values.slug, s: values.season, e: values.episode, lang: values.lang, provider: values.provider },
    secret,
    expiresAt !== undefined ? { expiresAt } : {},
  );
  if (values.out !== undefined) writeFileSync(values.out, `${url}\n`);
  process.stdout.write(`${url}\n`);
}

/** A duration for people: `4h 59m`, `12m 5s`, `40s`. */
function humanDuration(ms: number): string {
  const seconds = Math.round(Math.abs(ms) / 1000);
  if (seconds >= 3600) return `${Math.floor(seconds / 3600)}h ${Math.floor((seconds % 3600) / 60)}m`;
  if (seconds >= 60) return `${Math.floor(seconds / 60)}m ${seconds % 60}s`;
  return `${seconds}s`;
}

/** What `resolve` prints of a resolution: never a query or a header value. */
function printResolution(out: (label: string, value: string) => void, resolution: Resolution, config: ProxyConfig): void {
  const url = new URL(resolution.url);
  out('url', `${url.protocol}//${url.host}${url.pathname}${url.search === '' ? '' : ' (query hidden)'}`);
  out('headers', Object.keys(resolution.headers).length === 0 ? '(none)' : `${Object.keys(resolution.headers).join(', ')} (values hidden)`);
  out('provider', resolution.provider ?? '(not given)');
  if (resolution.expiresAt !== undefined) {
    const left = resolution.expiresAt - Date.now();
    out('expires', `${new Date(resolution.expiresAt).toISOString()} (${left >= 0 ? `in ${humanDuration(left)}` : `${humanDuration(left)} ago: already expired`})`);
  } else {
    out('expires', config.cacheTtlSeconds > 0
      ? `not given: cached for STRM_PROXY_CACHE_TTL_SECONDS=${config.cacheTtlSeconds}`
      : 'not given: cached until the upstream fails (STRM_PROXY_CACHE_TTL_SECONDS=0)');
  }
}

/**
 * `strm-proxy resolve`: one call to the configured source, no cache, printed for an operator who
 * wires a resolver up. It shows host and path of the URL and the header names only: queries and
 * header values carry tokens and cookies, and this output ends up in chats and issues.
 */
async function resolveOnce(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      site: { type: 'string', default: 'aniworld.to' },
      slug: { type: 'string' },
      season: { type: 'string', short: 's' },
      episode: { type: 'string', short: 'e' },
      lang: { type: 'string' },
      provider: { type: 'string' },
      refresh: { type: 'boolean', default: false },
    },
    strict: true,
  });
  const missing = ['slug', 'season', 'episode', 'lang'].filter((name) => values[name as keyof typeof values] === undefined);
  if (missing.length > 0) fail(`resolve needs --${missing.join(', --')}`);
  for (const name of ['season', 'episode'] as const) {
    if (!/^\d{1,6}$/.test(values[name]!)) fail(`--${name} must be a whole number, got ${JSON.stringify(values[name])}`);
  }
  // Resolving needs no secret: the auth settings of `serve` do not matter here.
  let config: ProxyConfig;
  try {
    config = loadConfig({ ...process.env, STRM_PROXY_AUTH: 'none' });
  } catch (error) {
    if (error instanceof ConfigError) fail(error.message);
    throw error;
  }
  const { source, kind, where } = await createConfiguredSource(config).catch((error: Error) => fail(error.message));
  const identity = {
    site: values.site, slug: values.slug!, season: Number(values.season), episode: Number(values.episode), language: values.lang!,
    ...(values.provider !== undefined ? { provider: values.provider } : {}),
  };
  const out = (label: string, value: string) => process.stdout.write(`${label.padEnd(9)}${value}\n`);
  out('source', `${kind} ${where}`);
  const started = performance.now();
  try {
    const resolution = await source.resolve(identity, { refresh: values.refresh });
    const took = Math.round(performance.now() - started);
    printResolution(out, resolution, config);
    out('took', `${took} ms`);
  } catch (error) {
    const took = Math.round(performance.now() - started);
    out('took', `${took} ms`);
    if (error instanceof ResolverError) {
      process.stderr.write(`strm-proxy: resolve failed: ${error.code}: ${error.message}\n`);
      // Exit 2 for an unknown episode, as the resolver contract's own commands do.
      process.exit(error.code === 'STRM_RESOLVER_NOT_FOUND' ? 2 : 1);
    }
    throw error;
  } finally {
    await (source as { close?: () => Promise<void> }).close?.();
  }
}

function statusUrl(args: string[]): void {
  const { values } = parseArgs({ args, options: { 'base-url': { type: 'string' }, ttl: { type: 'string', default: '3600' } }, strict: true });
  const secret = process.env.STRM_PROXY_SECRET;
  if (!secret) fail('STRM_PROXY_SECRET must be set to sign a status link (the same secret the proxy uses)');
  if (values['base-url'] === undefined) fail('status-url needs --base-url (the proxy as your browser reaches it, e.g. http://nas:8080)');
  const ttl = values.ttl;
  if (!/^\d+$/.test(ttl) || Number(ttl) < 1 || Number(ttl) > MAX_STATUS_LINK_TTL_SECONDS) {
    fail(`--ttl must be a whole number of seconds from 1 to ${MAX_STATUS_LINK_TTL_SECONDS}, got ${JSON.stringify(ttl)}`);
  }
  let base: URL;
  try {
    base = new URL(values['base-url']);
  } catch {
    fail(`--base-url must be an absolute URL, got ${JSON.stringify(values['base-url'])}`);
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:') fail(`--base-url must be an http(s) URL, got ${JSON.stringify(values['base-url'])}`);
  process.stdout.write(`${statusLink(base.href, secret, Number(ttl), Date.now() / 1000)}\n`);
}

const [command, ...rest] = process.argv.slice(2);
switch (command) {
  case 'serve':
    await serve();
    break;
  case 'check-config':
    checkConfig();
    break;
  case 'resolve':
    try {
      await resolveOnce(rest);
    } catch (error) {
      fail((error as Error).message);
    }
    break;
  case 'sign':
    try {
      sign(rest);
    } catch (error) {
      fail((error as Error).message);
    }
    break;
  case 'status-url':
    try {
      statusUrl(rest);
    } catch (error) {
      fail((error as Error).message);
    }
    break;
  case '--version':
  case '-v':
    process.stdout.write(`${(createRequire(import.meta.url)('../package.json') as { version: string }).version}\n`);
    break;
  case undefined:
  case '--help':
  case '-h':
  case 'help':
    process.stdout.write(HELP);
    break;
  default:
    process.stderr.write(HELP);
    fail(`unknown command ${JSON.stringify(command)}`);
}
