// The tables `pnpm bench` prints: every figure as the median of its rounds with the smallest and
// largest round beside it, every ratio computed round by round (the rounds of two routes ran side
// by side), direct printed as the ceiling, and the resource that limited each row.
import { idleRatio, type IdleRow, type MemoryRow } from './memory';
import type { SegmentRow } from './segments';
import type { StreamRow } from './single-stream';
import { fixed, ratioSpread, spreadOf, textTable, withSpread, type Spread } from './stats';
import type { TtfbSummary } from './ttfb';

const MiB = 1024 * 1024;

const ratioText = (spread: Spread | undefined) => withSpread(spread, 2, 'x');

/** The per-round ratio of a row's figure to another row's. */
function versus<R extends { rounds: unknown[] }>(row: R, other: R | undefined, pick: (round: R['rounds'][number]) => number | undefined): Spread | undefined {
  return other === undefined ? undefined : ratioSpread(row.rounds.map(pick), other.rounds.map(pick));
}

export function streamTable(rows: StreamRow[], movieBytes: number): string[] {
  const rounds = rows[0]?.rounds.length ?? 0;
  const find = (variant: string) => rows.find((r) => r.variant === variant);
  const [direct, relay, bare, nginx] = [find('direct'), find('tcp relay'), find('bare pipe'), find('nginx')];
  const mb = (round: StreamRow['rounds'][number]) => round.mbPerSecond;
  const cpu = (round: StreamRow['rounds'][number]) => round.cpuSecondsPerGiB;
  const ceiling = direct && nginx ? versus(direct, nginx, mb) : undefined;
  return [
    `single stream, ${movieBytes / MiB} MiB file, raw-socket client (median (min-max) of ${rounds} interleaved rounds; ratios round by round)`,
    textTable([
      ['route', 'MB/s', 'x direct', 'x relay', 'x bare', 'x nginx', 'CPU s/GiB', 'x relay', 'x bare', 'x nginx', 'limit'],
      ...rows.map((r) => [
        r.variant,
        withSpread(spreadOf(r.rounds.map(mb)), 0),
        ratioText(versus(r, direct, mb)),
        ratioText(versus(r, relay, mb)),
        ratioText(versus(r, bare, mb)),
        ratioText(versus(r, nginx, mb)),
        r.cpuSecondsPerGiB === undefined ? 'n/a' : withSpread(spreadOf(r.rounds.map((round) => round.cpuSecondsPerGiB ?? Number.NaN)), 2),
        ratioText(versus(r, relay, cpu)),
        ratioText(versus(r, bare, cpu)),
        ratioText(versus(r, nginx, cpu)),
        r.limit,
      ]),
    ]),
    ceiling === undefined
      ? 'the client ceiling: nginx not measured, so direct >= 1.5x nginx cannot be shown'
      : `the client ceiling: direct is ${ratioText(ceiling)} nginx proxy_pass (>= 1.5x wanted: ${ceiling.median >= 1.5 ? 'met' : `NOT met, every ratio is squeezed by what limits direct: ${direct!.limit}`})`,
    '',
  ];
}

export function segmentTables(rows: SegmentRow[], options: { seconds: number; connections: readonly number[] }): string[] {
  const rounds = rows[0]?.rounds.length ?? 0;
  return options.connections.flatMap((connections) => {
    const level = rows.filter((r) => r.connections === connections);
    const find = (variant: string) => level.find((r) => r.variant === variant);
    const [direct, bare] = [find('direct'), find('bare pipe')];
    const rps = (round: SegmentRow['rounds'][number]) => round.requestsPerSecond;
    const p99 = (round: SegmentRow['rounds'][number]) => round.p99Ms;
    return [
      `HLS segments, 1 MiB, ${connections} concurrent clients (median (min-max) of ${rounds} interleaved rounds of ${options.seconds} s)`,
      textTable([
        ['route', 'req/s', 'x direct', 'x bare', 'p50 ms', 'p99 ms', 'p99 x bare', 'CPU ms/req', 'x bare', 'limit'],
        ...level.map((r) => [
          r.variant,
          withSpread(spreadOf(r.rounds.map(rps)), 0),
          ratioText(versus(r, direct, rps)),
          ratioText(versus(r, bare, rps)),
          withSpread(spreadOf(r.rounds.map((round) => round.p50Ms)), 0),
          withSpread(spreadOf(r.rounds.map(p99)), 0),
          ratioText(versus(r, bare, p99)),
          r.cpuMsPerRequest === undefined ? 'n/a' : withSpread(spreadOf(r.rounds.map((round) => round.cpuMsPerRequest ?? Number.NaN)), 2),
          ratioText(versus(r, bare, (round) => round.cpuMsPerRequest)),
          r.limit,
        ]),
      ]),
      ...baselineLine(find('proxy /strm/proxy'), find('baseline /strm/proxy')),
      '',
    ];
  });
}

/** This checkout's proxy against the `--baseline` one, round by round. */
function baselineLine(proxy: SegmentRow | undefined, baseline: SegmentRow | undefined): string[] {
  if (proxy === undefined || baseline === undefined) return [];
  const of = (pick: (round: SegmentRow['rounds'][number]) => number | undefined) => ratioText(versus(proxy, baseline, pick));
  return [
    `proxy / baseline: req/s ${of((r) => r.requestsPerSecond)}, p99 ${of((r) => r.p99Ms)}, CPU ms/req ${of((r) => r.cpuMsPerRequest)}`,
  ];
}

export function ttfbTable(summary: TtfbSummary, options: { rounds: number; samples: number }): string[] {
  const row = (label: string, key: string, value: { p50Ms: number; p99Ms: number }) => {
    const spread = summary.spreads[key];
    const cpu = summary.cpuMicrosPerRequest[key as keyof TtfbSummary['cpuMicrosPerRequest']];
    return [label, spread ? withSpread(spread.p50, 2) : fixed(value.p50Ms, 2), spread ? withSpread(spread.p99, 2) : fixed(value.p99Ms, 2), cpu ? withSpread(cpu, 0) : ''];
  };
  const { added } = summary;
  return [
    `time to first byte, 1-byte Range request (${options.samples} requests per kind per round, median (min-max) of ${options.rounds} rounds)`,
    textTable([
      ['kind', 'p50 ms', 'p99 ms', 'server CPU us/req'],
      ...Object.entries(summary.kinds).map(([kind, v]) => row(kind, kind, v)),
      row('added by the bare pipe (the least a hop costs)', 'added bare pipe', added.barePipe),
      row('added by the proxy, cached', 'added proxy cached', added.cached),
      row('added by the proxy, token', 'added proxy token', added.token),
      row('added by the proxy, cold (resolver subtracted)', 'added proxy cold', added.cold),
      ...(added.baselineCached ? [row('added by the baseline proxy, cached', 'added baseline cached', added.baselineCached)] : []),
    ]),
    '',
  ];
}

export function idleLine(idle: IdleRow): string {
  const [proxy, bare] = [spreadOf(idle.proxyMiB), spreadOf(idle.bareMiB)];
  return `idle RSS of ${idle.proxyMiB.length} fresh processes each, ${fixed(idle.upSeconds, 0)} s after start: proxy ${withSpread(proxy)} MiB, bare pipe ${withSpread(bare)} MiB (${idleRatio(idle).toFixed(2)}x, medians)`;
}

export function memoryTable(rows: MemoryRow[], seconds: number): string[] {
  return [
    `memory, slow clients sharing 100 MB/s for ${seconds} s once all are served (fresh processes for the first load)`,
    textTable([
      ['process', 'clients', 'each reads', 'idle RSS MiB', 'peak RSS MiB', 'x bare', 'clients served', 'all served after s', 'clients read MB/s'],
      ...rows.map((r) => {
        const bare = rows.find((other) => other.variant === 'bare pipe' && other.clients === r.clients);
        return [
          r.variant,
          String(r.clients),
          `${fixed(r.bytesPerSecond / 1e6, 1)} MB/s`,
          fixed(r.idleMiB, 0),
          fixed(r.peakMiB, 0),
          bare ? `${(r.peakMiB / bare.peakMiB).toFixed(2)}x` : 'n/a',
          `${r.served}/${r.clients}`,
          fixed(r.rampSeconds, 1),
          fixed(r.readMBPerSecond, 0),
        ];
      }),
    ]),
    'limit: the clients read at a fixed rate; RSS is what the server holds per stream, not a speed',
    '',
  ];
}
