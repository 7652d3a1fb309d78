// Memory under slow clients: 100, then 1,000 players reading the large file slowly for a bounded
// time. The resident set of the process in the middle is sampled while they read; a proxy with
// working backpressure holds a few buffers per stream, whatever the speed of the origin.
import { setMaxListeners } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { readSlowly } from './client';
import type { ServerProcess } from './processes';
import { clientAgent, type Stack } from './stack';

const MB = 1_000_000;
const MiB = 1024 * 1024;

export interface MemoryRow {
  variant: 'bare pipe' | 'proxy /strm/stream';
  clients: number;
  /** What each client reads per second at most. */
  bytesPerSecond: number;
  /** RSS before the clients connect. */
  idleMiB: number;
  /** Largest RSS sampled while they read. */
  peakMiB: number;
  /** Bytes the clients read in all, as MB/s (should be about clients × 1 MB/s). */
  readMBPerSecond: number;
  /** Clients that received at least one byte: the others were still waiting when time was up. */
  served: number;
}

async function measure(server: ServerProcess, url: string, options: { clients: number; seconds: number; bytesPerSecond: number }) {
  const agent = clientAgent(options.clients + 8);
  const idle = server.rssBytes();
  const controller = new AbortController();
  setMaxListeners(options.clients + 8, controller.signal);
  const started = performance.now();
  const readers = Array.from({ length: options.clients }, () => readSlowly(agent, url, options.bytesPerSecond, controller.signal));
  let peak = idle;
  const deadline = started + options.seconds * 1000;
  while (performance.now() < deadline) {
    await sleep(200);
    peak = Math.max(peak, server.rssBytes());
  }
  controller.abort();
  const read = await Promise.all(readers);
  const bytes = read.reduce((sum, n) => sum + n, 0);
  const seconds = (performance.now() - started) / 1000;
  await agent.destroy();
  return { idleMiB: idle / MiB, peakMiB: peak / MiB, readMBPerSecond: bytes / MB / seconds, served: read.filter((n) => n > 0).length };
}

/**
 * For each number of clients (100, then 1,000), the proxy then the bare pipe. The clients share
 * 100 MB/s between them (1 MB/s each for 100, 100 kB/s each for 1,000): a thousand players at
 * 1 MB/s would measure the loopback, not the memory each stream holds.
 */
export async function runMemory(stack: Stack, options: { clients: readonly number[]; seconds: number }): Promise<MemoryRow[]> {
  const rows: MemoryRow[] = [];
  for (const clients of options.clients) {
    const shape = { clients, seconds: options.seconds, bytesPerSecond: (100 * MB) / clients };
    rows.push({ variant: 'proxy /strm/stream', clients, bytesPerSecond: shape.bytesPerSecond, ...(await measure(stack.proxy, stack.proxyStream.movie, shape)) });
    rows.push({ variant: 'bare pipe', clients, bytesPerSecond: shape.bytesPerSecond, ...(await measure(stack.bare, stack.barePipe.movie, shape)) });
  }
  return rows;
}
