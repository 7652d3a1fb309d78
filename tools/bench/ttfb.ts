// Time to first byte of a 1-byte Range request (a player's seek), one request at a time, the kinds
// taking turns request by request: direct from the CDN, through the proxy with the resolution
// cached, through the proxy with a resolution nobody asked for yet (cold), through a proxy token,
// through the bare pipe (what one more hop costs at the least), and the resolver alone (what a
// cold request waits for, subtracted from it).
import { fetchAndDiscard } from './client';
import type { ServerProcess } from './processes';
import { clientAgent, type Stack } from './stack';
import { median, quantile, spreadOf, type Spread } from './stats';

type TtfbKind = 'direct' | 'bare pipe' | 'proxy cached' | 'proxy cold' | 'proxy token' | 'resolver' | 'baseline cached';

type Percentiles = { p50Ms: number; p99Ms: number };

export interface TtfbSummary {
  /** Per kind, medians over rounds of each round's p50 and p99, in ms. */
  kinds: Partial<Record<TtfbKind, Percentiles>>;
  /**
   * CPU microseconds the server in the middle spent per request, median (min-max) over rounds:
   * the per-request cost with no body to move, steadier than a latency on a shared machine.
   */
  cpuMicrosPerRequest: Partial<Record<TtfbKind, Spread>>;
  /** The same as `kinds` and `added`, as the spread over rounds. */
  spreads: Record<string, { p50: Spread; p99: Spread }>;
  /** What the proxy adds over direct, medians over rounds: cached; cold minus the resolver's own time. */
  added: {
    cached: { p50Ms: number; p99Ms: number };
    cold: { p50Ms: number; p99Ms: number };
    token: { p50Ms: number; p99Ms: number };
    /** The reference: what the bare pipe adds over direct. */
    barePipe: { p50Ms: number; p99Ms: number };
    /** The proxy of another checkout (`--baseline`), cached. */
    baselineCached?: Percentiles;
  };
  samplesPerRound: number;
  rounds: number;
}

const BASE_KINDS: readonly TtfbKind[] = ['direct', 'bare pipe', 'proxy cached', 'proxy cold', 'proxy token', 'resolver'];

export async function runTtfb(stack: Stack, options: { rounds: number; samples: number; warmup: number }): Promise<TtfbSummary> {
  const KINDS: readonly TtfbKind[] = stack.baseline ? [...BASE_KINDS, 'baseline cached'] : BASE_KINDS;
  const agents = new Map(KINDS.map((kind) => [kind, clientAgent(1)]));
  const range = { range: 'bytes=0-0' };
  let cold = 0;
  const servers: Partial<Record<TtfbKind, ServerProcess>> = {
    'bare pipe': stack.bare,
    'proxy cached': stack.proxy,
    'proxy cold': stack.proxy,
    'proxy token': stack.proxy,
    ...(stack.baseline ? { 'baseline cached': stack.baseline.proxy } : {}),
  };
  // A request's CPU (the mean: a collection now and then is part of the cost) is read when the next one starts: the server writes its log line and
  // metrics after the last byte, while the client notes its sample.
  let cpuSamples: Partial<Record<TtfbKind, number[]>> = {};
  let open: { kind: TtfbKind; server: ServerProcess; before: number } | undefined;
  const closeCpu = () => {
    if (open !== undefined) (cpuSamples[open.kind] ??= []).push((open.server.cpuSeconds() - open.before) * 1e6);
    open = undefined;
  };
  const once = async (kind: TtfbKind): Promise<number> => {
    closeCpu();
    const server = servers[kind];
    if (server !== undefined) open = { kind, server, before: server.cpuSeconds() };
    const agent = agents.get(kind)!;
    const fetched =
      kind === 'direct' ? await fetchAndDiscard(agent, stack.direct.movie, range)
      : kind === 'bare pipe' ? await fetchAndDiscard(agent, stack.barePipe.movie, range)
      : kind === 'proxy cached' ? await fetchAndDiscard(agent, stack.proxyStream.movie, range)
      : kind === 'proxy cold' ? await fetchAndDiscard(agent, stack.coldEntry(cold++), range)
      : kind === 'proxy token' ? await fetchAndDiscard(agent, stack.proxyToken.movie, range)
      : kind === 'baseline cached' ? await fetchAndDiscard(agent, stack.baseline!.stream.movie, range)
      : await fetchAndDiscard(agent, stack.resolverUrl());
    const expected = kind === 'resolver' ? 200 : 206;
    if (fetched.status !== expected || (kind !== 'resolver' && fetched.bytes !== 1)) {
      throw new Error(`time to first byte (${kind}): expected ${expected} with 1 byte, received ${fetched.status} with ${fetched.bytes}`);
    }
    // The resolver's answer is needed whole before the proxy can go on.
    return kind === 'resolver' ? fetched.totalMs : fetched.firstByteMs;
  };

  for (let i = 0; i < options.warmup; i++) for (const kind of KINDS) await once(kind);
  const perRound: Record<TtfbKind, Percentiles>[] = [];
  const cpuPerRound: Partial<Record<TtfbKind, number>>[] = [];
  for (let round = 0; round < options.rounds; round++) {
    closeCpu();
    cpuSamples = {};
    const samples = Object.fromEntries(KINDS.map((kind) => [kind, [] as number[]])) as Record<TtfbKind, number[]>;
    for (let i = 0; i < options.samples; i++) {
      for (let k = 0; k < KINDS.length; k++) {
        const kind = KINDS[(k + i) % KINDS.length]!;
        samples[kind].push(await once(kind));
      }
    }
    perRound.push(
      Object.fromEntries(KINDS.map((kind) => [kind, { p50Ms: quantile(samples[kind], 0.5), p99Ms: quantile(samples[kind], 0.99) }])) as Record<
        TtfbKind,
        { p50Ms: number; p99Ms: number }
      >,
    );
    closeCpu();
    cpuPerRound.push(Object.fromEntries(Object.entries(cpuSamples).map(([kind, values]) => [kind, values.reduce((sum, value) => sum + value, 0) / values.length])));
  }
  await Promise.all([...agents.values()].map((agent) => agent.close()));

  const over = (pick: (round: (typeof perRound)[number]) => number) => median(perRound.map(pick));
  const spreads: TtfbSummary['spreads'] = {};
  const both = (name: string, p50: (round: (typeof perRound)[number]) => number, p99: (round: (typeof perRound)[number]) => number): Percentiles => {
    spreads[name] = { p50: spreadOf(perRound.map(p50)), p99: spreadOf(perRound.map(p99)) };
    return { p50Ms: over(p50), p99Ms: over(p99) };
  };
  const kinds = Object.fromEntries(KINDS.map((kind) => [kind, both(kind, (r) => r[kind].p50Ms, (r) => r[kind].p99Ms)])) as TtfbSummary['kinds'];
  const addedOver = (kind: TtfbKind) => both(`added ${kind}`, (r) => r[kind].p50Ms - r.direct.p50Ms, (r) => r[kind].p99Ms - r.direct.p99Ms);
  const cpuMicrosPerRequest = Object.fromEntries(
    Object.keys(servers).map((kind) => [kind, spreadOf(cpuPerRound.map((round) => round[kind as TtfbKind] ?? Number.NaN))]),
  ) as TtfbSummary['cpuMicrosPerRequest'];
  return {
    kinds,
    cpuMicrosPerRequest,
    spreads,
    added: {
      cached: addedOver('proxy cached'),
      cold: both(
        'added proxy cold',
        (r) => r['proxy cold'].p50Ms - r.direct.p50Ms - r.resolver.p50Ms,
        (r) => r['proxy cold'].p99Ms - r.direct.p99Ms - r.resolver.p99Ms,
      ),
      token: addedOver('proxy token'),
      barePipe: addedOver('bare pipe'),
      ...(stack.baseline ? { baselineCached: addedOver('baseline cached') } : {}),
    },
    samplesPerRound: options.samples,
    rounds: options.rounds,
  };
}

/** Cold resolutions one run needs: one per cold sample, warm-up included. */
export const coldEpisodesNeeded = (options: { rounds: number; samples: number; warmup: number }) => options.warmup + options.rounds * options.samples;
