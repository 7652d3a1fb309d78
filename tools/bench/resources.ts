// Which resource limited a measurement: the CPU time each process of the run (the client, which is
// this process, the origin, and the server in the middle) spent during it, as a share of one core.
// Every server here is one event loop, so a process near 100 % of a core is the bottleneck; when
// none is, the machine itself was (2 cores shared with the client, the origin, and whatever else runs).
import { cpus, loadavg } from 'node:os';
import type { ServerProcess } from './processes';

/** Share of one core each process used over a window (0.97 = 97 % of a core). */
export interface CoreShares {
  client: number;
  origin: number;
  /** The process in the middle (undefined for direct). */
  middle: number | undefined;
}

/** Above this share of a core a single-threaded process counts as saturated. */
const SATURATED = 0.85;

const clientCpuSeconds = () => {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1e6;
};

/** Starts a window: call the result when the load is over to read the shares. */
export function meterCores(origin: ServerProcess, middle: ServerProcess | undefined): () => CoreShares {
  const started = performance.now();
  const before = { client: clientCpuSeconds(), origin: origin.cpuSeconds(), middle: middle?.cpuSeconds() };
  return () => {
    const seconds = (performance.now() - started) / 1000;
    const middleAfter = middle?.cpuSeconds();
    return {
      client: (clientCpuSeconds() - before.client) / seconds,
      origin: (origin.cpuSeconds() - before.origin) / seconds,
      middle: middleAfter === undefined || before.middle === undefined ? undefined : (middleAfter - before.middle) / seconds,
    };
  };
}

/** The median share per process over rounds. */
export function medianShares(rounds: readonly CoreShares[]): CoreShares {
  const mid = (values: number[]) => values.sort((a, b) => a - b)[Math.floor((values.length - 1) / 2)] ?? Number.NaN;
  const middles = rounds.map((r) => r.middle).filter((m): m is number => m !== undefined);
  return { client: mid(rounds.map((r) => r.client)), origin: mid(rounds.map((r) => r.origin)), middle: middles.length > 0 ? mid(middles) : undefined };
}

/**
 * `proxy CPU (97%)`: the saturated process, or the machine when none is, with every share so a
 * reader can check the verdict: `client 40% origin 55% proxy 97%`.
 */
export function limitOf(shares: CoreShares, middleName: string): string {
  const named: [string, number][] = [['client', shares.client], ['origin', shares.origin]];
  if (shares.middle !== undefined) named.push([middleName, shares.middle]);
  const [busiest, share] = named.reduce((a, b) => (b[1] > a[1] ? b : a));
  const pct = (value: number) => `${Math.round(value * 100)}%`;
  const all = named.map(([name, value]) => `${name} ${pct(value)}`).join(' ');
  const total = named.reduce((sum, [, value]) => sum + value, 0);
  const verdict =
    share >= SATURATED ? `${busiest} CPU`
    : total >= cpus().length * SATURATED ? `all ${cpus().length} cores`
    : `shared machine, load ${loadavg()[0]!.toFixed(1)}`;
  return `${verdict}: ${all}`;
}
