import {
  createCommandResolverSource,
  createHttpResolverSource,
  loadStaticResolverFile,
  type ResolutionSource,
} from '@strm/resolver-client';
import type { ProxyConfig } from './config';

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
 * Builds the one resolution source the configuration names: the HTTP resolver, the static file
 * or the resolver command.
 *
 * @example
 * const { source, kind } = await createConfiguredSource(loadConfig(process.env));
 */
export async function createConfiguredSource(config: ProxyConfig): Promise<ConfiguredSource> {
  if (config.resolverFile !== undefined) {
    return { source: await loadStaticResolverFile(config.resolverFile), kind: 'file', where: config.resolverFile };
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
