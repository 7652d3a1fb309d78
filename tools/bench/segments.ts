// HLS segments: many players fetching 1 MiB segments at once. At each concurrency (64 and 512
// clients), every client on its own keep-alive connection fetches the segment back to back for a
// fixed time against each route in turn; requests per second, latency percentiles (request sent →
// last body byte), and the CPU time the process in the middle spent per request.
//
// The load comes from the raw-socket reader (raw-client.ts), not autocannon or undici: autocannon
// tops out near 40 req/s on 1 MiB bodies even against nginx serving a static file, and undici's
// body stream costs the client more than a proxy costs the server, so either would measure itself.
import type { ServerProcess } from './processes';
import { RawConnection } from './raw-client';
import { limitOf, medianShares, meterCores, type CoreShares } from './resources';
import type { Stack } from './stack';
import { interleave, median, quantile, roundsToRun } from './stats';

export type SegmentVariant = 'direct' | 'tcp relay' | 'bare pipe' | 'nginx' | 'proxy /strm/proxy' | 'baseline /strm/proxy';

export interface SegmentRound {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** CPU milliseconds of the process in the middle per request (undefined for direct). */
  cpuMsPerRequest: number | undefined;
  cores: CoreShares;
}

export interface SegmentRow {
  variant: SegmentVariant;
  connections: number;
  /** Medians over rounds. */
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  cpuMsPerRequest: number | undefined;
  limit: string;
  rounds: SegmentRound[];
}

interface Target {
  url: string;
  server: ServerProcess | undefined;
}

/** `connections` clients fetch the segment back to back until `seconds` have passed; every answer is checked. */
async function load(stack: Stack, target: Target, options: { connections: number; seconds: number; segmentBytes: number }): Promise<SegmentRound> {
  const { pathname, search } = new URL(target.url);
  const path = `${pathname}${search}`;
  const clients = Array.from({ length: options.connections }, () => new RawConnection(target.url));
  const latencies: number[] = [];
  const cores = meterCores(stack.origin, target.server);
  const cpuBefore = target.server?.cpuSeconds();
  const started = performance.now();
  const deadline = started + options.seconds * 1000;
  const client = async (connection: RawConnection) => {
    while (performance.now() < deadline) {
      const fetched = await connection.get(path).catch((error: Error) => {
        throw new Error(`segment through ${target.url} (${options.connections} clients): ${error.message}`, { cause: error });
      });
      if (fetched.status !== 200 || fetched.bytes !== options.segmentBytes) {
        throw new Error(`segment through ${target.url}: expected 200 with ${options.segmentBytes} bytes, received ${fetched.status} with ${fetched.bytes}`);
      }
      latencies.push(fetched.totalMs);
    }
  };
  try {
    await Promise.all(clients.map(client));
  } finally {
    for (const connection of clients) connection.close();
  }
  const elapsed = (performance.now() - started) / 1000;
  const cpuAfter = target.server?.cpuSeconds();
  return {
    requestsPerSecond: latencies.length / elapsed,
    p50Ms: quantile(latencies, 0.5),
    p99Ms: quantile(latencies, 0.99),
    cpuMsPerRequest: cpuBefore === undefined || cpuAfter === undefined ? undefined : ((cpuAfter - cpuBefore) * 1000) / latencies.length,
    cores: cores(),
  };
}

/** `rounds` and `balanced` as for the single stream (`runSingleStream`). */
export async function runSegments(
  stack: Stack,
  options: { rounds: number; balanced: boolean; seconds: number; connections: readonly number[]; segmentBytes: number; warmupSeconds: number },
): Promise<SegmentRow[]> {
  const targets: Partial<Record<SegmentVariant, Target>> = {
    direct: { url: stack.direct.segment, server: undefined },
    'tcp relay': { url: stack.relayRoute.segment, server: stack.relay },
    'bare pipe': { url: stack.barePipe.segment, server: stack.bare },
    ...(stack.nginxRoute ? { nginx: { url: stack.nginxRoute.segment, server: stack.nginx } } : {}),
    'proxy /strm/proxy': { url: stack.proxyToken.segment, server: stack.proxy },
    ...(stack.baseline ? { 'baseline /strm/proxy': { url: stack.baseline.token.segment, server: stack.baseline.proxy } } : {}),
  };
  const variants = Object.keys(targets) as SegmentVariant[];
  const rows: SegmentRow[] = [];
  for (const [level, connections] of options.connections.entries()) {
    const shape = { connections, seconds: options.seconds, segmentBytes: options.segmentBytes };
    // An untimed load per route before the rounds. The first one is long: a fresh proxy's CPU per
    // segment still fell by a quarter over its first ~4,000 segments (JIT, heap growth), so with
    // one second of warm-up the first rounds measured its start-up; the bare pipe was flat.
    const warmup = level === 0 ? options.warmupSeconds : 1;
    for (const variant of variants) await load(stack, targets[variant]!, { ...shape, seconds: warmup });
    const results = await interleave(variants, roundsToRun(options, variants.length), (variant) => load(stack, targets[variant]!, shape));
    for (const variant of variants) {
      const rounds = results[variant];
      const cpu = rounds.map((round) => round.cpuMsPerRequest).filter((value): value is number => value !== undefined);
      rows.push({
        variant,
        connections,
        requestsPerSecond: median(rounds.map((round) => round.requestsPerSecond)),
        p50Ms: median(rounds.map((round) => round.p50Ms)),
        p99Ms: median(rounds.map((round) => round.p99Ms)),
        cpuMsPerRequest: cpu.length > 0 ? median(cpu) : undefined,
        limit: limitOf(medianShares(rounds.map((round) => round.cores)), variant.includes('/strm/') ? 'proxy' : variant),
        rounds,
      });
    }
  }
  return rows;
}
