#!/usr/bin/env node
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ResolverError } from '@strm/resolver-client';
import { signedEntryUrl } from '@strm/signing';
import { CONFIG_VARIABLE_TABLE, CONFIG_VARIABLES, ConfigError, loadConfig, type ConfigVariable, type ProxyConfig } from './config';
import { compareLibrary, LibraryListError, planLibrary, readEpisodeList, writeLibrary } from './library';
import { disableIncrementalMarking } from './heap-mode';
import { createLogger, TurnBatchedLines } from './logger';
import { createConfiguredSource, validateConfiguration } from './resolver-source';
import { startProxy } from './server';
import { MAX_STATUS_LINK_TTL_SECONDS, statusLink } from './status-access';

// A reader that goes away (`strm-proxy check-config | head -1`) is the end of the output, not a crash.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(0);
    throw error;
  });
}

const ALL_VARIABLES = CONFIG_VARIABLES;

interface CommandOption {
  type: 'string' | 'boolean';
  /** How the value is shown in the help (`URL`, `FILE`); none for a boolean. */
  value?: string;
  /** A one-letter alias (`-s` for `--season`). */
  short?: string;
  default?: string;
  help: string;
}

interface Command {
  summary: string;
  /** What follows the command name in its usage line. */
  usage: string;
  options: Record<string, CommandOption>;
  variables: readonly ConfigVariable[];
  /** A paragraph after the options, when the options do not say it all. */
  notes?: string;
  run: (values: Record<string, string | boolean | undefined>) => void | Promise<void>;
}

function fail(message: string): never {
  process.stderr.write(`strm-proxy: ${message}\n`);
  process.exit(1);
}

/** A path given on the command line, relative to the folder the command was typed in. */
const callerPath = (path: string) => resolve(process.cwd(), path);

function variableLines(names: readonly ConfigVariable[]): string {
  const width = Math.max(...names.map((name) => name.length));
  return names.map((name) => {
    const variable = CONFIG_VARIABLE_TABLE[name];
    const shown = variable.default === '' ? '' : ` (default ${variable.default})`;
    return `  ${name.padEnd(width)}  ${variable.meaning}${shown}`;
  }).join('\n');
}

function optionLines(options: Record<string, CommandOption>): string {
  const left = (name: string, option: CommandOption) => `${option.short ? `-${option.short}, ` : ''}--${name}${option.value ? ` ${option.value}` : ''}`;
  const width = Math.max(...Object.entries(options).map(([name, option]) => left(name, option).length));
  return Object.entries(options)
    .map(([name, option]) => `  ${left(name, option).padEnd(width)}  ${option.help}${option.default !== undefined ? ` (default ${option.default})` : ''}`)
    .join('\n');
}

function commandHelp(name: string, command: Command): string {
  const options = { ...command.options, help: { type: 'boolean', help: 'show this help' } as CommandOption };
  return `strm-proxy ${name}: ${command.summary}

Usage: strm-proxy ${name}${command.usage ? ` ${command.usage}` : ''}

Options:
${optionLines(options)}
${command.notes ? `\n${command.notes}\n` : ''}
Environment:
${variableLines(command.variables)}
`;
}

function parseOptions(name: string, command: Command, args: string[]): Record<string, string | boolean | undefined> {
  const options: ParseArgsConfig['options'] = { help: { type: 'boolean', short: 'h' } };
  for (const [option, spec] of Object.entries(command.options)) {
    options[option] = { type: spec.type, ...(spec.short ? { short: spec.short } : {}), ...(spec.default !== undefined ? { default: spec.default } : {}) };
  }
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: false }).values as Record<string, string | boolean | undefined>;
  } catch (error) {
    // Node's messages name the option ("Unknown option '--bogus'"); the pointer to the help is ours.
    const message = (error as Error).message.replace(/\. To specify a positional argument.*$/s, '');
    fail(`${name}: ${message} (see strm-proxy ${name} --help)`);
  }
}

/** The secret for signing. A short one is warned about where it is configured: by serve and check-config. */
function signingSecret(command: string): string {
  const secret = process.env.STRM_PROXY_SECRET?.trim();
  if (!secret) fail(`${command}: STRM_PROXY_SECRET must be set to sign URLs (the same secret the proxy uses)`);
  return secret;
}

/** `--base-url`: where the media server reaches the proxy, as an absolute http(s) URL. */
function proxyBaseUrl(command: string, value: string | undefined): string {
  let url: URL | undefined;
  try {
    url = new URL(value ?? '');
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.host === '' || url.search !== '' || url.hash !== '') {
    fail(`${command}: --base-url must be an http(s) URL of the proxy as the media server reaches it, like http://nas:8080; got ${JSON.stringify(value)}`);
  }
  return url.href;
}

function requireOptions(command: string, values: Record<string, unknown>, names: readonly string[]): void {
  const missing = names.filter((name) => values[name] === undefined);
  if (missing.length > 0) fail(`${command} needs --${missing.join(', --')} (see strm-proxy ${command} --help)`);
}

async function serve(): Promise<void> {
  const { config } = await readConfiguration();
  disableIncrementalMarking();
  // Log lines go out once per turn of the event loop, and what is pending when the process exits.
  const lines = new TurnBatchedLines(process.stdout);
  process.on('exit', () => lines.end());
  const proxy = await startProxy(config, { logger: createLogger(config.logLevel, lines) }).catch((error: Error & { code?: string }) => {
    if (error.code === 'EADDRINUSE') fail(`could not start: ${config.host} port ${config.port} is already in use (set PORT to another port)`);
    if (error.code === 'EACCES') fail(`could not start: not allowed to listen on ${config.host} port ${config.port} (ports below 1024 need privileges)`);
    if (error instanceof ConfigError) fail(error.message);
    fail(`could not start: ${error.message}`);
  });
  const stop = (signal: string) => {
    process.stderr.write(`strm-proxy: ${signal}, finishing running streams (up to 10 s)\n`);
    void proxy.close(10_000).then(() => process.exit(0));
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

/** What `serve` validates, the resolver file included; any problem ends the process. */
async function readConfiguration() {
  try {
    return await validateConfiguration(process.env);
  } catch (error) {
    if (error instanceof ConfigError) fail(error.message);
    throw error;
  }
}

async function checkConfig(): Promise<void> {
  const { config, warnings } = await readConfiguration();
  for (const warning of warnings) process.stderr.write(`strm-proxy: warning: ${warning}\n`);
  const shown = {
    ...config,
    secret: config.secret ? '[set]' : '[not set]',
    previousSecrets: `[${config.previousSecrets.length} set]`,
    ...(config.resolverCommand ? { resolverCommand: { argv: config.resolverCommand.argv, env: `[${Object.keys(config.resolverCommand.env).length} variables inherited; the proxy's secrets withheld]` } } : {}),
  };
  process.stdout.write(`configuration ok\n${JSON.stringify(shown, null, 2)}\n`);
}

function sign(values: Record<string, string | boolean | undefined>): void {
  requireOptions('sign', values, ['base-url', 'slug', 'season', 'episode', 'lang']);
  const base = proxyBaseUrl('sign', values['base-url'] as string);
  const secret = signingSecret('sign');
  for (const name of ['season', 'episode'] as const) {
    if (!/^\d{1,6}$/.test(String(values[name]))) fail(`sign: --${name} must be a whole number, got ${JSON.stringify(values[name])}`);
  }
  let expiresAt: number | undefined;
  if (values['expires-in'] !== undefined) {
    if (!/^\d+$/.test(String(values['expires-in']))) fail(`sign: --expires-in must be a number of seconds, got ${JSON.stringify(values['expires-in'])}`);
    expiresAt = Math.floor(Date.now() / 1000) + Number(values['expires-in']);
  }
  const streamUrl = new URL('strm/stream', base.endsWith('/') ? base : `${base}/`);
  const url = signedEntryUrl(
    streamUrl.href,
    { site: values.site as string, slug: values.slug as string, s: values.season as string, e: values.episode as string, lang: values.lang as string, provider: values.provider as string | undefined },
    secret,
    expiresAt !== undefined ? { expiresAt } : {},
  );
  if (values.out !== undefined) {
    const out = callerPath(values.out as string);
    try {
      writeFileSync(out, `${url}\n`);
    } catch (error) {
      fail(`sign: --out ${out} could not be written (${(error as { code?: string }).code ?? (error as Error).message})`);
    }
  }
  process.stdout.write(`${url}\n`);
}

/** A duration for people: `4h 59m`, `12m 5s`, `40s`. */
function humanDuration(ms: number): string {
  const seconds = Math.round(Math.abs(ms) / 1000);
  if (seconds >= 3600) return `${Math.floor(seconds / 3600)}h ${Math.floor((seconds % 3600) / 60)}m`;
  if (seconds >= 60) return `${Math.floor(seconds / 60)}m ${seconds % 60}s`;
  return `${seconds}s`;
}

/**
 * `strm-proxy resolve`: one call to the configured source, no cache, printed for an operator who
 * wires a resolver up. It shows host and path of the URL and the header names only: queries and
 * header values carry tokens and cookies, and this output ends up in chats and issues.
 */
async function resolveOnce(values: Record<string, string | boolean | undefined>): Promise<void> {
  requireOptions('resolve', values, ['slug', 'season', 'episode', 'lang']);
  for (const name of ['season', 'episode'] as const) {
    if (!/^\d{1,6}$/.test(String(values[name]))) fail(`resolve: --${name} must be a whole number, got ${JSON.stringify(values[name])}`);
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
    site: values.site as string, slug: values.slug as string, season: Number(values.season), episode: Number(values.episode), language: values.lang as string,
    ...(values.provider !== undefined ? { provider: values.provider as string } : {}),
  };
  const out = (label: string, value: string) => process.stdout.write(`${label.padEnd(9)}${value}\n`);
  out('source', `${kind} ${where}`);
  const started = performance.now();
  try {
    const resolution = await source.resolve(identity, { refresh: values.refresh === true });
    const took = Math.round(performance.now() - started);
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

function statusUrl(values: Record<string, string | boolean | undefined>): void {
  requireOptions('status-url', values, ['base-url']);
  const base = proxyBaseUrl('status-url', values['base-url'] as string);
  const secret = signingSecret('status-url');
  const ttl = String(values.ttl);
  if (!/^\d+$/.test(ttl) || Number(ttl) < 1 || Number(ttl) > MAX_STATUS_LINK_TTL_SECONDS) {
    fail(`status-url: --ttl must be a whole number of seconds from 1 to ${MAX_STATUS_LINK_TTL_SECONDS}, got ${JSON.stringify(ttl)}`);
  }
  process.stdout.write(`${statusLink(base, secret, Number(ttl), Date.now() / 1000)}\n`);
}

const ACTION_WORDS = { create: 'created', update: 'updated', overwrite: 'overwrote', unchanged: 'unchanged', conflict: 'conflict' } as const;

function library(values: Record<string, string | boolean | undefined>): void {
  requireOptions('library', values, ['from', 'out', 'base-url']);
  const base = proxyBaseUrl('library', values['base-url'] as string);
  const secret = signingSecret('library');
  const from = callerPath(values.from as string);
  const out = callerPath(values.out as string);
  let episodes;
  try {
    episodes = readEpisodeList(from);
  } catch (error) {
    if (error instanceof LibraryListError) fail(`library: --from ${error.message}`);
    throw error;
  }
  const compared = compareLibrary(planLibrary(episodes, { baseUrl: base, secret }), out, values.force === true);
  const count = (action: keyof typeof ACTION_WORDS) => compared.filter((file) => file.action === action).length;
  const conflicts = compared.filter((file) => file.action === 'conflict');
  const dryRun = values['dry-run'] === true;
  for (const file of compared) {
    if (file.action === 'unchanged' || file.action === 'conflict') continue;
    process.stdout.write(`${dryRun ? `would ${file.action}` : ACTION_WORDS[file.action]}  ${file.path}\n`);
  }
  if (conflicts.length > 0) {
    process.stderr.write(`strm-proxy: library: ${conflicts.length} file(s) in ${out} already exist with other content and were not written by strm-proxy library; nothing was written (--force overwrites them):\n`);
    for (const file of conflicts) process.stderr.write(`  ${file.path}\n`);
    process.exit(1);
  }
  const summary = `${count('create')} to create, ${count('update') + count('overwrite')} to update, ${count('unchanged')} unchanged`;
  if (dryRun) {
    process.stdout.write(`library (dry run, nothing written): ${summary} in ${out}\n`);
    return;
  }
  writeLibrary(compared, out);
  if (count('create') + count('update') + count('overwrite') === 0) {
    process.stdout.write(`library: nothing to do, all ${compared.length} .strm files in ${out} are up to date\n`);
  } else {
    process.stdout.write(`library: ${count('create')} created, ${count('update') + count('overwrite')} updated, ${count('unchanged')} unchanged in ${out}\n`);
  }
}

/** The options that name one episode, shared by `sign` and `resolve` so both read the same. */
const EPISODE_OPTIONS: Record<string, CommandOption> = {
  site: { type: 'string', value: 'SITE', default: 'aniworld.to', help: 'the site of the episode' },
  slug: { type: 'string', value: 'SLUG', help: 'the series slug' },
  season: { type: 'string', value: 'N', short: 's', help: 'season number (0 = specials)' },
  episode: { type: 'string', value: 'N', short: 'e', help: 'episode number' },
  lang: { type: 'string', value: 'LANGUAGE', help: 'language, e.g. "German Dub"' },
  provider: { type: 'string', value: 'NAME', help: 'preferred provider' },
};

const COMMANDS: Record<string, Command> = {
  serve: {
    summary: 'run the proxy, configured by the environment',
    usage: '',
    options: {},
    variables: ALL_VARIABLES,
    notes: 'The configuration is checked first (the same checks as check-config); every problem is\nreported at once and the process exits 1.',
    run: serve,
  },
  'check-config': {
    summary: 'validate the environment and the resolver file exactly as serve does, then print the effective configuration',
    usage: '',
    options: {},
    variables: ALL_VARIABLES,
    notes: 'Exits 1 on any problem; warnings (a short secret, STRM_PROXY_AUTH=none) go to stderr.',
    run: checkConfig,
  },
  sign: {
    summary: 'print a signed entry URL for one episode (what a .strm file holds)',
    usage: '--base-url URL --slug SLUG --season N --episode N --lang LANGUAGE [options]',
    options: {
      'base-url': { type: 'string', value: 'URL', help: 'the proxy as the media server reaches it, e.g. http://nas:8080' },
      ...EPISODE_OPTIONS,
      'expires-in': { type: 'string', value: 'SECONDS', help: 'make the URL expire (default: never)' },
      out: { type: 'string', value: 'FILE', help: 'also write the URL to this .strm file (relative to the current folder)' },
    },
    variables: ['STRM_PROXY_SECRET'],
    run: sign,
  },
  resolve: {
    summary: 'ask the configured resolver for one episode and show what it answers (URL host and path, header names, expiry, time taken)',
    usage: '--slug SLUG -s N -e N --lang LANGUAGE [options]',
    options: {
      ...EPISODE_OPTIONS,
      refresh: { type: 'boolean', help: 'ask the resolver to bypass its own cache' },
    },
    variables: ['STRM_RESOLVER_URL', 'STRM_RESOLVER_FILE', 'STRM_RESOLVER_COMMAND', 'STRM_RESOLVER_TIMEOUT_MS', 'STRM_PROXY_UPSTREAM_TIMEOUT_MS', 'STRM_PROXY_CACHE_TTL_SECONDS'],
    notes: 'Query strings and header values are hidden: they carry tokens. Exits 2 when the resolver\ndoes not know the episode, 1 on any other failure.',
    run: resolveOnce,
  },
  'status-url': {
    summary: 'print a signed, expiring link to the status page (the proxy needs STRM_PROXY_STATUS=on)',
    usage: '--base-url URL [--ttl SECONDS]',
    options: {
      'base-url': { type: 'string', value: 'URL', help: 'the proxy as your browser reaches it, e.g. http://nas:8080' },
      ttl: { type: 'string', value: 'SECONDS', default: '3600', help: `how long the link works, at most ${MAX_STATUS_LINK_TTL_SECONDS}` },
    },
    variables: ['STRM_PROXY_SECRET', 'STRM_PROXY_STATUS'],
    run: statusUrl,
  },
  library: {
    summary: 'write a whole library of .strm files from a list of episodes',
    usage: '--from FILE --out DIR --base-url URL [--dry-run] [--force]',
    options: {
      from: { type: 'string', value: 'FILE', help: 'episodes: CSV, JSON, or a static resolver file' },
      out: { type: 'string', value: 'DIR', help: 'the library folder (created if needed)' },
      'base-url': { type: 'string', value: 'URL', help: 'the proxy as the media server reaches it, e.g. http://nas:8080' },
      'dry-run': { type: 'boolean', help: 'print what would be written, write nothing' },
      force: { type: 'boolean', help: 'overwrite .strm files that this command did not write' },
    },
    variables: ['STRM_PROXY_SECRET'],
    notes: `Files are named as Jellyfin, Emby and Plex expect: <Show>/Season 01/<Show> S01E03.strm
(specials in Season 00); when one episode has several languages or providers, the name ends in
" - German Dub". Names are made safe for every filesystem.

--from takes CSV with a header line (slug,season,episode,language and optional site, provider,
show), a JSON array of such objects (or {"episodes": [...]}), or a static resolver file
({"entries": [...]}). show is the folder name; without it the slug is turned into one.

A second run changes nothing and says so. A file that exists with other content is only
replaced when this command wrote it (recorded in DIR/.strm-library.json) or with --force.
Relative paths are relative to the current folder.`,
    run: library,
  },
};

function mainHelp(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((name) => name.length));
  return `strm-proxy: a streaming proxy for .strm files (Jellyfin, Emby, Plex, Kodi)

Usage: strm-proxy <command> [options]

Commands:
${Object.entries(COMMANDS).map(([name, command]) => `  ${name.padEnd(width)}  ${command.summary}`).join('\n')}

  strm-proxy <command> --help shows a command's options; strm-proxy --version its version.

Environment (serve and check-config):
${variableLines(ALL_VARIABLES)}

Exactly one of STRM_RESOLVER_URL, STRM_RESOLVER_FILE and STRM_RESOLVER_COMMAND is needed.
`;
}

const [name, ...rest] = process.argv.slice(2);
const command = name === undefined ? undefined : COMMANDS[name];
if (command !== undefined) {
  const values = parseOptions(name!, command, rest);
  if (values.help === true) process.stdout.write(commandHelp(name!, command));
  else {
    try {
      await command.run(values);
    } catch (error) {
      // Whatever slipped past the checks still gets one line, not a stack trace.
      fail(`${name}: ${(error as Error).message}`);
    }
  }
} else if (name === '--version' || name === '-v') {
  process.stdout.write(`${(createRequire(import.meta.url)('../package.json') as { version: string }).version}\n`);
} else if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
  process.stdout.write(mainHelp());
} else {
  process.stderr.write(mainHelp());
  fail(`unknown command ${JSON.stringify(name)}`);
}
