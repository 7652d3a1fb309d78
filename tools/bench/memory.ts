// Memory under slow clients: 100, then 1,000 players reading the large file slowly for a bounded
// time, measured once every one of them is served (has its first bytes). The resident set of the
// process in the middle is sampled while they start and read; a proxy with working backpressure
// holds a few buffers per stream, whatever the speed of the origin.
import { setMaxListeners } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { readSlowly, type SlowProgress } from './client';
import type { ServerProcess } from './processes';
import { clientAgent, type Stack } from './stack';
import { median } from './stats';

const MB = 1_000_000;
const MiB = 1024 * 1024;

export interface MemoryRow {
  variant: 'bare pipe' | 'proxy /strm/stream';
  clients: number;
  /** What each client reads per second at most. */
  bytesPerSecond: number;
  /** RSS before the clients connect. */
  idleMiB: number;
  /** Largest RSS sampled while they started and read. */
  peakMiB: number;
  /** Bytes the clients read in the window, as MB/s (should be about clients × their rate). */
  readMBPerSecond: number;
  /** Clients that received at least one byte by the end of the window. */
  served: number;
  /** Seconds until every client had its first bytes (the window starts then), at most the ramp limit. */
  rampSeconds: number;
}

/** RSS of fresh proxies and bare pipes once they have been idle since they started. */
export interface IdleRow {
  /** One per process, MiB. */
  proxyMiB: number[];
  bareMiB: number[];
  /** Seconds the latest started of them had been up when they were read. */
  upSeconds: number;
}

/** The proxies' idle RSS over the bare pipes', as medians: the figure the bench prints and checks. */
export function idleRatio(idle: IdleRow): number {
  return median(idle.proxyMiB) / median(idle.bareMiB);
}

/**
 * How long a process has been up before its RSS counts as idle. V8's memory reducer gives back
 * the heap that start-up grew some 8 s after the start-up collections when the process allocates
 * little by then, else at one of its next looks, 8 s apart: with `--trace-gc`, 8.3-9.3 s after the
 * start of the proxy in 23 timed starts on a quiet machine, but 16, 24 or 32 s after it (once not
 * by 36 s) in the bench's idle section on a busier one (tools/bench/README.md, "The idle proxy on
 * this machine, this evening"). 45 s lets the look at 40 s finish. The proxy keeps marking on for
 * a minute after its start for the same reason (`START_UP_MS` in heap-mode.ts).
 */
const SETTLED_AFTER_MS = 45_000;

/**
 * Fresh processes of each kind, so that one start's chance (glibc's heap keeping some 35 MiB of
 * start-up work in a few starts) is not the figure.
 */
const IDLE_PAIRS = 3;

/** RSS of a process in MiB; an error naming it when it has exited. */
function idleMiB(server: ServerProcess): number {
  let rss = Number.NaN;
  try {
    rss = server.rssBytes();
  } catch {
    // No /proc entry: the process is gone.
  }
  if (!Number.isFinite(rss)) throw new Error(`${server.name} (pid ${server.pid}) exited while it was idle`);
  return rss / MiB;
}

/**
 * The idle RSS of three fresh proxies and three fresh bare pipes, started together and read once
 * all have been up for 45 s. The bench asks them nothing: the proxy asks its resolver once at
 * start, as it always does, and so has set up what a first fetch needs (undici's response parser,
 * llhttp, among it: 4.7 MiB in a bare pipe), which the bare pipe has not; fetching once made the
 * bare pipe keep about 35 MiB in glibc's heap in two starts of three (tools/bench/README.md, "The
 * idle proxy gives back its start-up heap"), which would flatter the proxy.
 */
export async function measureIdle(stack: Stack): Promise<IdleRow> {
  const pairs = await Promise.all(Array.from({ length: IDLE_PAIRS }, () => stack.freshPair()));
  try {
    const servers = pairs.flatMap((pair) => [pair.proxy, pair.bare]);
    const wait = Math.max(...servers.map((server) => server.readyAt + SETTLED_AFTER_MS - performance.now()));
    if (wait > 0) await sleep(wait);
    return {
      proxyMiB: pairs.map((pair) => idleMiB(pair.proxy)),
      bareMiB: pairs.map((pair) => idleMiB(pair.bare)),
      upSeconds: Math.min(...servers.map((server) => (performance.now() - server.readyAt) / 1000)),
    };
  } finally {
    await Promise.all(pairs.flatMap((pair) => [pair.proxy.stop(), pair.bare.stop()]));
  }
}

/**
 * Longest wait for every client's first bytes. A thousand streams that start at once first fill a
 * thousand sets of socket buffers (origin to server, server to client) on a 2-core machine: that
 * took 6-17 s here (the bench prints it: "all served after s"), so a fixed 10 s window counted
 * the late ones as not served.
 */
const RAMP_LIMIT_MS = 60_000;

async function measure(server: ServerProcess, url: string, options: { clients: number; seconds: number; bytesPerSecond: number }) {
  const agent = clientAgent(options.clients + 8);
  const idle = server.rssBytes();
  const controller = new AbortController();
  setMaxListeners(options.clients + 8, controller.signal);
  const progress: SlowProgress = { bytes: 0, served: 0 };
  const started = performance.now();
  const readers = Array.from({ length: options.clients }, () => readSlowly(agent, url, options.bytesPerSecond, controller.signal, progress));
  let peak = idle;
  const sampleFor = async (until: () => boolean) => {
    while (!until()) {
      await sleep(200);
      peak = Math.max(peak, server.rssBytes());
    }
  };
  // First every client gets its first bytes, then all of them read for the window.
  await sampleFor(() => progress.served >= options.clients || performance.now() - started > RAMP_LIMIT_MS);
  const rampSeconds = (performance.now() - started) / 1000;
  const window = { bytes: progress.bytes, at: performance.now() };
  await sampleFor(() => performance.now() - window.at > options.seconds * 1000);
  const seconds = (performance.now() - window.at) / 1000;
  const read = { bytes: progress.bytes - window.bytes, served: progress.served };
  controller.abort();
  await Promise.all(readers);
  await agent.destroy();
  return { idleMiB: idle / MiB, peakMiB: peak / MiB, readMBPerSecond: read.bytes / MB / seconds, served: read.served, rampSeconds };
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
