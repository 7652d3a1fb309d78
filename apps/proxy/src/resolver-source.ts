import { readFile } from 'node:fs/promises';
import {
  createCommandResolverSource,
  createHttpResolverSource,
  createStaticResolverSource,
  type ResolutionSource,
  type StaticEntry,
} from '@strm/resolver-client';
import { ConfigError, configWarnings, loadConfig, type ProxyConfig } from './config';
import { parseJsonText } from './json-text';

/** Default limit of one resolver command run: extractors such as yt-dlp take seconds, not milliseconds. */
const COMMAND_TIMEOUT_MS = 30_000;

/** The configured source and how to name it in logs (never with a secret: no query, no argv). */
export interface ConfiguredSource {
  source: ResolutionSource;
  kind: 'http' | 'file' | 'command';
  /** `http://resolver:9000/resolve`, the file path, or the command's program. */
  where: string;
}

/**
 * Reads and checks a static resolver file: JSON (`{"entries": [...]}` or an array of entries).
 * Every problem is a `ConfigError` naming `STRM_RESOLVER_FILE`, the file, and the line and
 * column of a JSON syntax error or the index and field of a bad entry.
 */
async function loadResolverFile(path: string): Promise<ResolutionSource> {
  const where = `STRM_RESOLVER_FILE ${path}`;
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    const why = code === 'ENOENT' ? 'does not exist' : `could not be read (${typeof code === 'string' ? code : 'unknown error'})`;
    throw new ConfigError([`${where} ${why}`]);
  }
  const parsed = parseJsonText(text);
  if (!parsed.ok) throw new ConfigError([`${where} is not valid JSON: ${parsed.problem.message}`]);
  const document = parsed.value;
  const entries = Array.isArray(document)
    ? document
    : typeof document === 'object' && document !== null ? (document as Record<string, unknown>)['entries'] : document;
  try {
    return createStaticResolverSource(entries as StaticEntry[]);
  } catch (error) {
    throw new ConfigError([`${where}: ${(error as Error).message.replace(/^static resolver: /, '')}`]);
  }
}

/**
 * Builds the one resolution source the configuration names: the HTTP resolver, the static file
 * (read and checked now) or the resolver command.
 *
 * @example
 * const { source, kind } = await createConfiguredSource(loadConfig(process.env));
 */
export async function createConfiguredSource(config: ProxyConfig): Promise<ConfiguredSource> {
  if (config.resolverFile !== undefined) {
    return { source: await loadResolverFile(config.resolverFile), kind: 'file', where: config.resolverFile };
  }
  if (config.resolverCommand !== undefined) {
    const source = createCommandResolverSource({
      command: config.resolverCommand.argv,
      env: config.resolverCommand.env,
      timeoutMs: config.resolverTimeoutMs ?? COMMAND_TIMEOUT_MS,
      concurrency: config.resolverConcurrency,
    });
    return { source, kind: 'command', where: source.program };
  }
  const source = createHttpResolverSource({
    baseUrl: config.resolverUrl!,
    timeoutMs: config.resolverTimeoutMs ?? Math.max(config.upstreamTimeoutMs, 10_000),
  });
  return { source, kind: 'http', where: source.endpoint };
}

/**
 * Everything `serve` checks before it listens, and what `check-config` runs: the environment and
 * the resolver file it names. Every problem is reported at once, in one `ConfigError`.
 */
export async function validateConfiguration(env: Readonly<Record<string, string | undefined>>): Promise<{ config: ProxyConfig; warnings: string[] }> {
  let config: ProxyConfig | undefined;
  const problems: string[] = [];
  try {
    config = loadConfig(env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    problems.push(...error.problems);
  }
  const file = env.STRM_RESOLVER_FILE?.trim();
  if (file) {
    try {
      await loadResolverFile(file);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      problems.push(...error.problems);
    }
  }
  if (problems.length > 0 || config === undefined) throw new ConfigError(problems);
  return { config, warnings: configWarnings(config) };
}
