// HLS segments: many players fetching 1 MiB segments at once. 64 clients, each on its own
// keep-alive connection, fetch the segment back to back for a fixed time against each route in
// turn; requests per second and latency percentiles (request sent → last body byte).
//
// The load comes from undici, not autocannon: autocannon spends so much per response body that on
// 1 MiB segments it tops out near 40 req/s even against nginx serving a static file (undici reads
// the same file at 600-700 req/s on this machine), so it would measure itself, not the proxy.
import { fetchAndDiscard } from './client';
import { clientAgent, type Stack } from './stack';
import { interleave, median, quantile } from './stats';

type SegmentVariant = 'direct' | 'bare pipe' | 'nginx' | 'proxy /strm/proxy';

export interface SegmentRow {
  variant: SegmentVariant;
  /** Medians over rounds. */
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  rounds: { requestsPerSecond: number; p50Ms: number; p99Ms: number }[];
}

/** `connections` clients fetch `url` back to back until `seconds` have passed; every answer is checked. */
async function load(url: string, connections: number, seconds: number, segmentBytes: number) {
  const agent = clientAgent(connections);
  const latencies: number[] = [];
  const started = performance.now();
  const deadline = started + seconds * 1000;
  const client = async () => {
    while (performance.now() < deadline) {
      const fetched = await fetchAndDiscard(agent, url);
      if (fetched.status !== 200 || fetched.bytes !== segmentBytes) {
        throw new Error(`segment through ${url}: expected 200 with ${segmentBytes} bytes, received ${fetched.status} with ${fetched.bytes}`);
      }
      latencies.push(fetched.totalMs);
    }
  };
  await Promise.all(Array.from({ length: connections }, client));
  const elapsed = (performance.now() - started) / 1000;
  await agent.close();
  return { requestsPerSecond: latencies.length / elapsed, p50Ms: quantile(latencies, 0.5), p99Ms: quantile(latencies, 0.99) };
}

export async function runSegments(
  stack: Stack,
  options: { rounds: number; seconds: number; connections: number; segmentBytes: number },
): Promise<SegmentRow[]> {
  const urls: Partial<Record<SegmentVariant, string>> = {
    direct: stack.direct.segment,
    'bare pipe': stack.barePipe.segment,
    ...(stack.nginxRoute ? { nginx: stack.nginxRoute.segment } : {}),
    'proxy /strm/proxy': stack.proxyToken.segment,
  };
  const variants = Object.keys(urls) as SegmentVariant[];
  // A short untimed load per route: connections open, JIT warm.
  for (const variant of variants) await load(urls[variant]!, options.connections, 1, options.segmentBytes);
  const results = await interleave(variants, options.rounds, (variant) => load(urls[variant]!, options.connections, options.seconds, options.segmentBytes));
  return variants.map((variant) => {
    const rounds = results[variant];
    return {
      variant,
      requestsPerSecond: median(rounds.map((round) => round.requestsPerSecond)),
      p50Ms: median(rounds.map((round) => round.p50Ms)),
      p99Ms: median(rounds.map((round) => round.p99Ms)),
      rounds,
    };
  });
}
