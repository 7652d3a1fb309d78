import { existsSync, statSync } from 'node:fs';
import { isIP } from 'node:net';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import { parseCommandLine } from '@strm/resolver-client';
import { parseCidr } from './address-guard';

/** How clients prove they may use the proxy. */
export type AuthMode = 'token' | 'apikey' | 'none';

/** The validated configuration of one proxy process (docs/contract.md, "Configuration"). */
export interface ProxyConfig {
  port: number;
  host: string;
  auth: AuthMode;
  /** Signs entry URLs and seals proxy tokens; undefined only when `auth` is `none` and none was given. */
  secret: string | undefined;
  previousSecrets: string[];
  /** One fixed base for rewritten playlist URIs (`https://media.example/strm`); undefined = each request's own (see `reference-base.ts`). */
  publicBaseUrl: string | undefined;
  tokenTtlSeconds: number;
  cacheTtlSeconds: number;
  /** Hosts (exact names or IP literals) and CIDRs exempt from the private-address guard. */
  upstreamAllowlist: string[];
  resolverUrl: string | undefined;
  resolverFile: string | undefined;
  /** `STRM_RESOLVER_COMMAND`, split into argv (placeholders not yet expanded), and what the program inherits. */
  resolverCommand: ResolverCommandConfig | undefined;
  /** `STRM_RESOLVER_TIMEOUT_MS`; undefined = each source's default (HTTP 10 s or the upstream timeout, command 30 s). */
  resolverTimeoutMs: number | undefined;
  /** `STRM_RESOLVER_CONCURRENCY`: resolver commands running at once. */
  resolverConcurrency: number;
  /** `STRM_RESOLVER_MIN_REFRESH_MS`: the shortest time between two re-resolutions of one episode. */
  resolverMinRefreshMs: number;
  upstreamTimeoutMs: number;
  /** `STRM_PROXY_UPSTREAM_CONNECTIONS`: connections open at once to one upstream origin (a playing stream holds one). */
  upstreamConnections: number;
  redisUrl: string | undefined;
  /** `*` or the exact origins allowed to read responses from a browser. */
  corsOrigins: '*' | string[];
  /** `/status`, `/status.json` (and the page's script and style) are served to holders of the secret. */
  status: boolean;
  /** The bounds on the work one upstream playlist or manifest may cause (see `rewrite-limits.ts`). */
  rewriteLimits: RewriteLimitConfig;
  logLevel: string;
}

/** `STRM_PROXY_PLAYLIST_MAX_*`: the operator's bounds on one playlist's (or manifest's) rewrite. */
export interface RewriteLimitConfig {
  maxUris: number;
  maxVariableReferences: number;
  maxOutputBytes: number;
  maxOutputRatio: number;
}

/** How the proxy runs a resolver command. */
export interface ResolverCommandConfig {
  argv: string[];
  /** The proxy's environment minus its own secrets: the program must not learn how to sign URLs. */
  env: Record<string, string>;
}

/** Variables a resolver command does not inherit: they would let it sign URLs or reach Redis. */
const WITHHELD_FROM_COMMANDS = ['STRM_PROXY_SECRET', 'STRM_PROXY_PREVIOUS_SECRETS', 'STRM_PROXY_REDIS_URL'];

/** The environment a resolver command inherits. */
function commandInheritance(env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const inherited: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (value !== undefined && !WITHHELD_FROM_COMMANDS.includes(name)) inherited[name] = value;
  }
  return inherited;
}

/** Why a command's program cannot be run, or undefined when it can be found (a path, or a name on PATH). */
function programProblem(program: string, env: Readonly<Record<string, string | undefined>>): string | undefined {
  const isFile = (path: string) => existsSync(path) && statSync(path).isFile();
  if (program.includes('/')) {
    return isFile(isAbsolute(program) ? program : resolve(program)) ? undefined : `the program ${show(program)} does not exist (relative paths start at ${show(process.cwd())})`;
  }
  const dirs = (env['PATH'] ?? '').split(delimiter).filter((dir) => dir !== '');
  return dirs.some((dir) => isFile(join(dir, program))) ? undefined : `the program ${show(program)} is not on PATH`;
}

/** Start-up failure listing every problem of the environment at once. */
export class ConfigError extends Error {
  readonly code = 'STRM_CONFIG_INVALID' as const;
  readonly problems: string[];

  constructor(problems: string[]) {
    super(`invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** One environment variable of the proxy: its default as an operator would type it, and its meaning. */
export interface ConfigVariableInfo {
  /** The default, `''` when unset means "not set". */
  default: string;
  meaning: string;
}

/**
 * Every variable the proxy reads, with its default, in the order of the README's configuration
 * table: the one table behind `loadConfig`'s defaults, {@link CONFIG_VARIABLES},
 * `strm-proxy --help` and the variable tables of the READMEs (a test keeps them in step).
 */
export const CONFIG_VARIABLE_TABLE = {
  PORT: { default: '8080', meaning: 'port to listen on (0 = any free port)' },
  HOST: { default: '0.0.0.0', meaning: 'address to listen on' },
  STRM_PROXY_AUTH: { default: 'token', meaning: 'token (signed URLs), apikey (apikey parameter or X-Api-Key header) or none' },
  STRM_PROXY_SECRET: { default: '', meaning: 'signs .strm URLs and seals proxy links; required unless auth is none; 32 bytes or more' },
  STRM_PROXY_PREVIOUS_SECRETS: { default: '', meaning: 'comma-separated older secrets, still accepted (rotation)' },
  STRM_PUBLIC_BASE_URL: { default: '', meaning: 'makes rewritten playlist URIs absolute under this URL' },
  STRM_PROXY_TOKEN_TTL_SECONDS: { default: '86400', meaning: 'lifetime of the proxy links inside rewritten playlists' },
  STRM_PROXY_CACHE_TTL_SECONDS: { default: '0', meaning: "resolution cache lifetime; 0 = until the resolver's expiresAt or a failure" },
  STRM_PROXY_UPSTREAM_ALLOWLIST: { default: '', meaning: 'hosts and CIDRs exempt from the private-address guard, comma-separated' },
  STRM_RESOLVER_URL: { default: '', meaning: 'base URL of an HTTP resolver (GET {url}/resolve?...)' },
  STRM_RESOLVER_FILE: { default: '', meaning: 'or a static JSON file of episodes (path relative to the current folder)' },
  STRM_RESOLVER_COMMAND: { default: '', meaning: 'or a program run per episode (no shell; identity in env and {placeholders})' },
  STRM_RESOLVER_TIMEOUT_MS: { default: '', meaning: 'limit of one resolution (default: 10000 or the upstream timeout over HTTP, 30000 for a command)' },
  STRM_RESOLVER_CONCURRENCY: { default: '4', meaning: 'resolver commands running at once' },
  STRM_RESOLVER_MIN_REFRESH_MS: { default: '5000', meaning: 'shortest time between two re-resolutions of one episode after stale answers (0 = none)' },
  STRM_PROXY_UPSTREAM_TIMEOUT_MS: { default: '15000', meaning: 'connect + time to the first byte of an upstream answer' },
  STRM_PROXY_UPSTREAM_CONNECTIONS: { default: '1024', meaning: 'connections open at once to one upstream origin: a playing stream holds one, so also the viewers one CDN host serves at once' },
  STRM_PROXY_REDIS_URL: { default: '', meaning: 'redis:// URL sharing the resolution cache among replicas' },
  STRM_PROXY_CORS_ORIGINS: { default: '*', meaning: 'browser origins allowed to read responses, comma-separated, or *' },
  STRM_PROXY_STATUS: { default: 'off', meaning: 'on serves /status and /status.json to holders of the secret (strm-proxy status-url)' },
  STRM_PROXY_PLAYLIST_MAX_URIS: { default: '100000', meaning: 'most URIs rewritten in one playlist or DASH manifest (more: 502 STRM_TOO_MANY_URIS)' },
  STRM_PROXY_PLAYLIST_MAX_VARIABLE_REFERENCES: { default: '100000', meaning: 'most {$variable} references substituted in one playlist (more: 502 STRM_TOO_MANY_VARIABLE_REFERENCES)' },
  STRM_PROXY_PLAYLIST_MAX_OUTPUT_MIB: { default: '64', meaning: 'largest rewritten playlist or manifest, in MiB (larger: 502 STRM_REWRITE_TOO_LARGE)' },
  STRM_PROXY_PLAYLIST_MAX_OUTPUT_RATIO: { default: '64', meaning: 'how many times its upstream size a rewritten playlist or manifest may grow, plus 64 KiB (more: 502 STRM_REWRITE_AMPLIFIED)' },
  LOG_LEVEL: { default: 'info', meaning: LOG_LEVELS.join(', ') },
} as const satisfies Record<string, ConfigVariableInfo>;

/** The name of one environment variable of {@link CONFIG_VARIABLES}. */
export type ConfigVariable = keyof typeof CONFIG_VARIABLE_TABLE;

/**
 * Every environment variable the proxy reads. `loadConfig` only reads names of this list (its
 * readers take a {@link ConfigVariable}), so deployment files (compose, Kubernetes, the systemd
 * unit) can be checked against it.
 *
 * @example
 * CONFIG_VARIABLES.includes('STRM_PROXY_SECRET') // true
 */
export const CONFIG_VARIABLES = Object.keys(CONFIG_VARIABLE_TABLE) as readonly ConfigVariable[];

/** Below this many bytes a secret is warned about: one signed URL lets an attacker test guesses offline. */
const MIN_SECRET_BYTES = 32;

/** The warning for a signing secret shorter than {@link MIN_SECRET_BYTES}, or undefined. */
function shortSecretWarning(secret: string | undefined): string | undefined {
  if (secret === undefined) return undefined;
  const bytes = Buffer.byteLength(secret);
  if (bytes >= MIN_SECRET_BYTES) return undefined;
  return `STRM_PROXY_SECRET is ${bytes} byte${bytes === 1 ? '' : 's'} long; use ${MIN_SECRET_BYTES} or more (openssl rand -hex 32): a short secret can be guessed from one signed URL`;
}

/**
 * What a valid configuration should still tell its operator at start: auth switched off, a short
 * secret. Logged by `serve`, printed by `check-config`.
 */
export function configWarnings(config: ProxyConfig): string[] {
  const warnings: string[] = [];
  if (config.auth === 'none') warnings.push('STRM_PROXY_AUTH=none: anyone who can reach this proxy can use it');
  const short = shortSecretWarning(config.secret);
  if (short !== undefined) warnings.push(short);
  return warnings;
}

const show = (value: string) => JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value);

/** Reads variables of an environment, collecting a problem for each one that is malformed. */
function environmentReader(env: Readonly<Record<string, string | undefined>>, problems: string[]) {
  const text = (name: ConfigVariable): string | undefined => {
    const value = env[name]?.trim();
    return value === undefined || value === '' ? undefined : value;
  };
  const integer = (name: ConfigVariable, min: number, max: number): number => {
    const fallback = Number(CONFIG_VARIABLE_TABLE[name].default);
    const raw = text(name);
    if (raw === undefined) return fallback;
    if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
      problems.push(`${name} must be a whole number from ${min} to ${max}, got ${show(raw)}`);
      return fallback;
    }
    return Number(raw);
  };
  const list = (name: ConfigVariable): string[] =>
    (text(name) ?? '').split(',').map((item) => item.trim()).filter((item) => item !== '');
  const httpUrl = (name: ConfigVariable): string | undefined => {
    const raw = text(name);
    if (raw === undefined) return undefined;
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      problems.push(`${name} must be an absolute http(s) URL, got ${show(raw)}`);
      return undefined;
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      problems.push(`${name} must be an http(s) URL, got the scheme ${show(url.protocol)}`);
      return undefined;
    }
    return raw.replace(/\/+$/, '');
  };
  return { text, integer, list, httpUrl };
}

/**
 * `STRM_PUBLIC_BASE_URL` is a prefix that paths are appended to: a query, a fragment or user info
 * would end up in the middle of every rewritten URI, so they are refused at start-up.
 */
function checkPublicBase(raw: string, problems: string[]): void {
  const url = new URL(raw);
  if (/[?#]/.test(raw) || url.username !== '' || url.password !== '') {
    problems.push(`STRM_PUBLIC_BASE_URL must be a scheme, a host and an optional path prefix, without query, fragment or user info, got ${show(raw)}`);
  }
}

/** `STRM_PROXY_UPSTREAM_ALLOWLIST`: each entry a host name, an IP address or a CIDR. */
function checkAllowlist(entries: readonly string[], problems: string[]): void {
  for (const entry of entries) {
    if (entry.includes('/')) {
      if (parseCidr(entry) === undefined) problems.push(`STRM_PROXY_UPSTREAM_ALLOWLIST: ${show(entry)} is not a valid CIDR (e.g. 10.0.0.0/8, fd00::/8)`);
    } else if (isIP(entry.replace(/^\[|\]$/g, '')) === 0 && !/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/i.test(entry)) {
      problems.push(`STRM_PROXY_UPSTREAM_ALLOWLIST: ${show(entry)} is neither a host name, an IP address nor a CIDR`);
    }
  }
}

/** `STRM_RESOLVER_COMMAND`: a command line whose program can be found, or a problem. */
function readResolverCommand(commandLine: string | undefined, env: Readonly<Record<string, string | undefined>>, problems: string[]): ResolverCommandConfig | undefined {
  if (commandLine === undefined) return undefined;
  try {
    const argv = parseCommandLine(commandLine);
    const problem = programProblem(argv[0]!, env);
    if (problem === undefined) return { argv, env: commandInheritance(env) };
    problems.push(`STRM_RESOLVER_COMMAND: ${problem}`);
  } catch (error) {
    problems.push(`STRM_RESOLVER_COMMAND: ${(error as Error).message}`);
  }
  return undefined;
}

/** Exactly one resolver source is configured. */
function checkOneResolverSource(text: (name: ConfigVariable) => string | undefined, problems: string[]): void {
  const sources = (['STRM_RESOLVER_URL', 'STRM_RESOLVER_FILE', 'STRM_RESOLVER_COMMAND'] as const).filter((name) => text(name) !== undefined);
  if (sources.length > 1) {
    problems.push(`set only one of STRM_RESOLVER_URL, STRM_RESOLVER_FILE and STRM_RESOLVER_COMMAND; found ${sources.join(' and ')}`);
  } else if (sources.length === 0) {
    problems.push('set STRM_RESOLVER_URL (an HTTP resolver), STRM_RESOLVER_FILE (a static JSON file) or STRM_RESOLVER_COMMAND (a program run per episode)');
  }
}

/** `STRM_PROXY_CORS_ORIGINS`: `*`, or a list of exact origins. */
function corsOriginsOf(origins: readonly string[], problems: string[]): '*' | string[] {
  if (origins.length === 0 || (origins.length === 1 && origins[0] === '*')) return '*';
  const allowed: string[] = [];
  for (const origin of origins) {
    let parsed: URL | undefined;
    try {
      parsed = new URL(origin);
    } catch {
      parsed = undefined;
    }
    if (parsed === undefined || parsed.origin !== origin.replace(/\/$/, '')) {
      problems.push(`STRM_PROXY_CORS_ORIGINS: ${show(origin)} is not an origin (scheme://host[:port]) or *`);
    } else allowed.push(parsed.origin);
  }
  return allowed;
}

/**
 * Reads and validates the proxy's environment. Every problem is collected, so an operator fixes
 * them all in one round; secrets are never echoed back.
 *
 * @example
 * loadConfig({ STRM_PROXY_SECRET: 'x', STRM_RESOLVER_URL: 'http://resolver:9000' }).port // 8080
 */
export function loadConfig(env: Readonly<Record<string, string | undefined>>): ProxyConfig {
  const problems: string[] = [];
  const { text, integer, list, httpUrl } = environmentReader(env, problems);

  const port = integer('PORT', 0, 65535);
  const host = text('HOST') ?? CONFIG_VARIABLE_TABLE.HOST.default;

  const authRaw = (text('STRM_PROXY_AUTH') ?? CONFIG_VARIABLE_TABLE.STRM_PROXY_AUTH.default).toLowerCase();
  let auth: AuthMode = 'token';
  if (authRaw === 'token' || authRaw === 'apikey' || authRaw === 'none') auth = authRaw;
  else problems.push(`STRM_PROXY_AUTH must be token, apikey or none, got ${show(authRaw)}`);

  const secret = text('STRM_PROXY_SECRET');
  if (secret === undefined && auth !== 'none') {
    problems.push(`STRM_PROXY_SECRET is required when STRM_PROXY_AUTH is ${auth} (it signs .strm URLs and seals proxy tokens)`);
  }
  const previousSecrets = list('STRM_PROXY_PREVIOUS_SECRETS');

  const publicBaseUrl = httpUrl('STRM_PUBLIC_BASE_URL');
  if (publicBaseUrl !== undefined) checkPublicBase(publicBaseUrl, problems);
  const tokenTtlSeconds = integer('STRM_PROXY_TOKEN_TTL_SECONDS', 60, 31_536_000);
  const cacheTtlSeconds = integer('STRM_PROXY_CACHE_TTL_SECONDS', 0, 31_536_000);

  const upstreamAllowlist = list('STRM_PROXY_UPSTREAM_ALLOWLIST');
  checkAllowlist(upstreamAllowlist, problems);

  const resolverUrl = httpUrl('STRM_RESOLVER_URL');
  const resolverFile = text('STRM_RESOLVER_FILE');
  const resolverCommand = readResolverCommand(text('STRM_RESOLVER_COMMAND'), env, problems);
  checkOneResolverSource(text, problems);
  const resolverTimeoutMs = text('STRM_RESOLVER_TIMEOUT_MS') === undefined ? undefined : integer('STRM_RESOLVER_TIMEOUT_MS', 100, 600_000);
  const resolverConcurrency = integer('STRM_RESOLVER_CONCURRENCY', 1, 64);
  const resolverMinRefreshMs = integer('STRM_RESOLVER_MIN_REFRESH_MS', 0, 3_600_000);

  const upstreamTimeoutMs = integer('STRM_PROXY_UPSTREAM_TIMEOUT_MS', 100, 600_000);
  const upstreamConnections = integer('STRM_PROXY_UPSTREAM_CONNECTIONS', 1, 65_536);

  const redisUrl = text('STRM_PROXY_REDIS_URL');
  if (redisUrl !== undefined && !/^rediss?:\/\//.test(redisUrl)) {
    problems.push('STRM_PROXY_REDIS_URL must start with redis:// or rediss://');
  }

  const corsOrigins = corsOriginsOf(list('STRM_PROXY_CORS_ORIGINS'), problems);

  const statusRaw = (text('STRM_PROXY_STATUS') ?? CONFIG_VARIABLE_TABLE.STRM_PROXY_STATUS.default).toLowerCase();
  const status = statusRaw === 'on';
  if (statusRaw !== 'on' && statusRaw !== 'off') problems.push(`STRM_PROXY_STATUS must be on or off, got ${show(statusRaw)}`);
  else if (status && secret === undefined && auth === 'none') {
    // The page is guarded by the secret in every auth mode: without one it would be open to anyone.
    problems.push('STRM_PROXY_STATUS=on needs STRM_PROXY_SECRET (the status page is guarded by it, also with STRM_PROXY_AUTH=none)');
  }

  const rewriteLimits: RewriteLimitConfig = {
    maxUris: integer('STRM_PROXY_PLAYLIST_MAX_URIS', 1, 100_000_000),
    maxVariableReferences: integer('STRM_PROXY_PLAYLIST_MAX_VARIABLE_REFERENCES', 1, 100_000_000),
    maxOutputBytes: integer('STRM_PROXY_PLAYLIST_MAX_OUTPUT_MIB', 1, 4096) * 1024 * 1024,
    maxOutputRatio: integer('STRM_PROXY_PLAYLIST_MAX_OUTPUT_RATIO', 1, 1_000_000),
  };

  const logLevel = (text('LOG_LEVEL') ?? CONFIG_VARIABLE_TABLE.LOG_LEVEL.default).toLowerCase();
  if (!LOG_LEVELS.includes(logLevel)) problems.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got ${show(logLevel)}`);

  if (problems.length > 0) throw new ConfigError(problems);
  return {
    port, host, auth, secret, previousSecrets, publicBaseUrl, tokenTtlSeconds, cacheTtlSeconds,
    upstreamAllowlist, resolverUrl, resolverFile, resolverCommand, resolverTimeoutMs, resolverConcurrency, resolverMinRefreshMs, upstreamTimeoutMs, upstreamConnections, redisUrl, corsOrigins, status, rewriteLimits, logLevel,
  };
}
