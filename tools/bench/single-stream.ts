// Single stream: one client reads the large file to its end through each route in turn; MB/s at
// the client and CPU seconds per GiB spent by the process in the middle (none for direct). The
// client is the raw-socket reader (raw-client.ts): direct is the ceiling every route is read
// against, and it sits well above nginx, so no ratio is squeezed by the client.
import { RawConnection, rawFetch } from './raw-client';
import type { ServerProcess } from './processes';
import { limitOf, medianShares, meterCores, type CoreShares } from './resources';
import type { Stack } from './stack';
import { interleave, median, roundsToRun } from './stats';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

export type StreamVariant =
  | 'direct'
  | 'tcp relay'
  | 'bare pipe'
  | 'nginx'
  | 'proxy /strm/stream'
  | 'proxy /strm/proxy'
  | 'baseline /strm/stream'
  | 'baseline /strm/proxy'
  | 'byte path: reused buffers'
  | 'byte path: undici dispatch';

export interface StreamRound {
  mbPerSecond: number;
  cpuSecondsPerGiB: number | undefined;
  cores: CoreShares;
}

export interface StreamRow {
  variant: StreamVariant;
  /** Median over rounds. */
  mbPerSecond: number;
  /** Median over rounds; undefined for direct (no process in the middle). */
  cpuSecondsPerGiB: number | undefined;
  /** Which resource was the limit (median core shares over rounds). */
  limit: string;
  rounds: StreamRound[];
}

/**
 * `rounds` is the least number of rounds; with `balanced`, whole periods of the route orders
 * (`balancedRounds` in stats.ts), so that every route follows every other one equally often.
 */
export async function runSingleStream(stack: Stack, options: { rounds: number; balanced: boolean; movieBytes: number }): Promise<StreamRow[]> {
  const routes: { variant: StreamVariant; url: string; server: ServerProcess | undefined }[] = [
    { variant: 'direct', url: stack.direct.movie, server: undefined },
    { variant: 'tcp relay', url: stack.relayRoute.movie, server: stack.relay },
    { variant: 'bare pipe', url: stack.barePipe.movie, server: stack.bare },
    ...(stack.nginxRoute ? [{ variant: 'nginx' as const, url: stack.nginxRoute.movie, server: stack.nginx }] : []),
    { variant: 'proxy /strm/stream', url: stack.proxyStream.movie, server: stack.proxy },
    { variant: 'proxy /strm/proxy', url: stack.proxyToken.movie, server: stack.proxy },
    ...(stack.baseline
      ? [
          { variant: 'baseline /strm/stream' as const, url: stack.baseline.stream.movie, server: stack.baseline.proxy },
          { variant: 'baseline /strm/proxy' as const, url: stack.baseline.token.movie, server: stack.baseline.proxy },
        ]
      : []),
    ...(stack.bytePaths
      ? [
          { variant: 'byte path: reused buffers' as const, url: stack.bytePaths.reused.movie, server: stack.bytePaths.reused.server },
          { variant: 'byte path: undici dispatch' as const, url: stack.bytePaths.dispatch.movie, server: stack.bytePaths.dispatch.server },
        ]
      : []),
  ];
  const connections = new Map(routes.map((route) => [route.variant, new RawConnection(route.url)]));
  const once = async (variant: StreamVariant): Promise<StreamRound> => {
    const route = routes.find((candidate) => candidate.variant === variant)!;
    const cores = meterCores(stack.origin, route.server);
    const cpuBefore = route.server?.cpuSeconds();
    const fetched = await rawFetch(connections.get(variant)!, route.url);
    const cpuAfter = route.server?.cpuSeconds();
    if (fetched.status !== 200 || fetched.bytes !== options.movieBytes) {
      throw new Error(`single stream through ${variant}: expected 200 with ${options.movieBytes} bytes, received ${fetched.status} with ${fetched.bytes}`);
    }
    return {
      mbPerSecond: fetched.bytes / MiB / (fetched.totalMs / 1000),
      cpuSecondsPerGiB: cpuBefore === undefined || cpuAfter === undefined ? undefined : ((cpuAfter - cpuBefore) * GiB) / fetched.bytes,
      cores: cores(),
    };
  };
  const variants = routes.map((route) => route.variant);
  // One untimed pass warms connections, JIT and page cache for every route.
  for (const variant of variants) await once(variant);
  const results = await interleave(variants, roundsToRun(options, variants.length), once);
  for (const connection of connections.values()) connection.close();
  return variants.map((variant) => {
    const rounds = results[variant];
    const cpu = rounds.map((round) => round.cpuSecondsPerGiB).filter((value): value is number => value !== undefined);
    return {
      variant,
      mbPerSecond: median(rounds.map((round) => round.mbPerSecond)),
      cpuSecondsPerGiB: cpu.length > 0 ? median(cpu) : undefined,
      limit: limitOf(medianShares(rounds.map((round) => round.cores)), variant.startsWith('proxy') || variant.startsWith('baseline') ? 'proxy' : variant),
      rounds,
    };
  });
}
