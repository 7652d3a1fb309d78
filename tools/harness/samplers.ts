// What the fuzz and the soak measure while they run: `/healthz` latency (how long the proxy's event
// loop makes everyone wait), and the proxy process's memory and open descriptors.
import { readdir, readFile } from 'node:fs/promises';
import { Agent, request } from 'undici';
import type { ChildProxy } from '../../apps/e2e/test/support/child-proxy';
import { quantile } from '../bench/stats';

/** A `/healthz` that does not answer within this is counted as this long, and as a failure. */
const HEALTHZ_TIMEOUT_MS = 10_000;

export interface HealthzFigures {
  samples: number;
  failures: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

/**
 * Asks `/healthz` one at a time, `intervalMs` apart, on a connection of its own, until stopped;
 * each answer's latency is kept. The interval is a pause between samples (a bounded loop), not a
 * synchronization.
 */
export function sampleHealthz(proxyUrl: string, intervalMs: number): { stop(): Promise<HealthzFigures> } {
  const agent = new Agent({ connections: 1, headersTimeout: HEALTHZ_TIMEOUT_MS, bodyTimeout: HEALTHZ_TIMEOUT_MS });
  const latencies: number[] = [];
  let failures = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      const started = performance.now();
      try {
        const response = await request(`${proxyUrl}/healthz`, { dispatcher: agent, signal: AbortSignal.timeout(HEALTHZ_TIMEOUT_MS) });
        await response.body.dump();
        if (response.statusCode !== 200) failures += 1;
        latencies.push(performance.now() - started);
      } catch {
        failures += 1;
        latencies.push(HEALTHZ_TIMEOUT_MS);
      }
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      await agent.close();
      return {
        samples: latencies.length,
        failures,
        p50Ms: quantile(latencies, 0.5),
        p99Ms: quantile(latencies, 0.99),
        maxMs: latencies.length === 0 ? Number.NaN : Math.max(...latencies),
      };
    },
  };
}

/** One sample of the proxy process. */
export interface ProcessSample {
  /** Seconds since sampling started. */
  t: number;
  rssMB: number;
  heapMB: number;
  fds: number;
}

/** Open file descriptors of a process (Linux `/proc`). */
export async function openDescriptors(pid: number): Promise<number> {
  return (await readdir(`/proc/${pid}/fd`)).length;
}

/** Resident memory of a process from `/proc/<pid>/status` (VmRSS), in MB. */
async function residentMB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kib = Number(/^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1] ?? Number.NaN);
  return (kib * 1024) / 1e6;
}

/** Samples RSS, heap and descriptors of the proxy every `intervalMs` until stopped. */
export function sampleProcess(proxy: ChildProxy, intervalMs: number): { stop(): Promise<ProcessSample[]> } {
  const samples: ProcessSample[] = [];
  const started = performance.now();
  let running = true;
  const loop = (async () => {
    while (running && proxy.alive()) {
      const [rssMB, usage, fds] = await Promise.all([residentMB(proxy.pid), proxy.usage(), openDescriptors(proxy.pid)]);
      samples.push({ t: (performance.now() - started) / 1000, rssMB, heapMB: usage.heapUsed / 1e6, fds });
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop.catch(() => undefined);
      return samples;
    },
  };
}

/**
 * Least-squares slope of `value` over time, in units per minute, from the samples after the first
 * `skipFraction` (the warm-up, when caches and pools fill). NaN with fewer than 3 samples.
 */
export function slopePerMinute(samples: readonly ProcessSample[], value: (sample: ProcessSample) => number, skipFraction = 0.2): number {
  const used = samples.slice(Math.floor(samples.length * skipFraction));
  if (used.length < 3) return Number.NaN;
  const meanT = used.reduce((sum, s) => sum + s.t, 0) / used.length;
  const meanV = used.reduce((sum, s) => sum + value(s), 0) / used.length;
  let covariance = 0;
  let variance = 0;
  for (const s of used) {
    covariance += (s.t - meanT) * (value(s) - meanV);
    variance += (s.t - meanT) ** 2;
  }
  return variance === 0 ? 0 : (covariance / variance) * 60;
}

/** The machine's load average (1, 5, 15 min): the figures of a shared machine mean little without it. */
export async function loadAverage(): Promise<string> {
  const text = await readFile('/proc/loadavg', 'utf8').catch(() => '');
  return text.split(' ').slice(0, 3).join(' ');
}
