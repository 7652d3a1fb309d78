// Single stream: one client reads the large file to its end through each route in turn; MB/s at
// the client and CPU seconds per GiB spent by the process in the middle (none for direct).
import { fetchAndDiscard } from './client';
import type { ServerProcess } from './processes';
import { clientAgent, type Stack } from './stack';
import { interleave, median } from './stats';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

type StreamVariant = 'direct' | 'bare pipe' | 'nginx' | 'proxy /strm/stream' | 'proxy /strm/proxy';

export interface StreamRow {
  variant: StreamVariant;
  /** Median over rounds. */
  mbPerSecond: number;
  /** Median over rounds; undefined for direct (no process in the middle). */
  cpuSecondsPerGiB: number | undefined;
  rounds: { mbPerSecond: number; cpuSecondsPerGiB: number | undefined }[];
}

export async function runSingleStream(stack: Stack, options: { rounds: number; movieBytes: number }): Promise<StreamRow[]> {
  const routes: { variant: StreamVariant; url: string; server: ServerProcess | undefined }[] = [
    { variant: 'direct', url: stack.direct.movie, server: undefined },
    { variant: 'bare pipe', url: stack.barePipe.movie, server: stack.bare },
    ...(stack.nginxRoute ? [{ variant: 'nginx' as const, url: stack.nginxRoute.movie, server: stack.nginx }] : []),
    { variant: 'proxy /strm/stream', url: stack.proxyStream.movie, server: stack.proxy },
    { variant: 'proxy /strm/proxy', url: stack.proxyToken.movie, server: stack.proxy },
  ];
  const agents = new Map(routes.map((route) => [route.variant, clientAgent(4)]));
  const once = async (variant: StreamVariant) => {
    const route = routes.find((candidate) => candidate.variant === variant)!;
    const cpuBefore = route.server?.cpuSeconds();
    const fetched = await fetchAndDiscard(agents.get(variant)!, route.url);
    const cpuAfter = route.server?.cpuSeconds();
    if (fetched.status !== 200 || fetched.bytes !== options.movieBytes) {
      throw new Error(`single stream through ${variant}: expected 200 with ${options.movieBytes} bytes, received ${fetched.status} with ${fetched.bytes}`);
    }
    return {
      mbPerSecond: fetched.bytes / MiB / (fetched.totalMs / 1000),
      cpuSecondsPerGiB: cpuBefore === undefined || cpuAfter === undefined ? undefined : ((cpuAfter - cpuBefore) * GiB) / fetched.bytes,
    };
  };
  const variants = routes.map((route) => route.variant);
  // One untimed pass warms connections, JIT and page cache for every route.
  for (const variant of variants) await once(variant);
  const results = await interleave(variants, options.rounds, once);
  await Promise.all([...agents.values()].map((agent) => agent.close()));
  return variants.map((variant) => {
    const rounds = results[variant];
    const cpu = rounds.map((round) => round.cpuSecondsPerGiB).filter((value): value is number => value !== undefined);
    return {
      variant,
      mbPerSecond: median(rounds.map((round) => round.mbPerSecond)),
      cpuSecondsPerGiB: cpu.length > 0 ? median(cpu) : undefined,
      rounds,
    };
  });
}
